# Two commands on a fresh machine: `make run` serves the portal, `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test lint format migrate clean bench load check-security

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_regions
	$(PY) manage.py seed_demo
	@echo "Portal: http://$(HOST)/  (log in with an account above)"
	$(PY) manage.py runserver $(HOST)

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# $(call migrated_database,URL): create the PostgreSQL database of URL if missing, then migrate it.
define migrated_database
	psql "$(dir $(1))postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(1))'" | grep -q 1 \
		|| psql "$(dir $(1))postgres" -c "CREATE DATABASE $(notdir $(1))"
	DATABASE_URL=$(1) $(PY) manage.py migrate --noinput -v 0
endef

# National-scale benchmark on PostgreSQL (wipes the bench database); see README "Performance".
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/smartvillage_bench
BENCH_ARGS ?=
bench: $(VENV)/.installed
	$(call migrated_database,$(BENCH_DATABASE_URL))
	DATABASE_URL=$(BENCH_DATABASE_URL) $(PY) bench/run.py $(BENCH_ARGS)

# Bounded load test on loopback (wipes the load database): reads, reports and payment races for a
# minute against gunicorn, then the ledger and event invariants; see SECURITY.md.
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/smartvillage_load
LOAD_ARGS ?=
load: $(VENV)/.installed
	$(call migrated_database,$(LOAD_DATABASE_URL))
	DATABASE_URL=$(LOAD_DATABASE_URL) $(PY) bench/load.py $(LOAD_ARGS)

# Everything SECURITY.md promises, on PostgreSQL + Redis: the security tests (also part of `make test`),
# then the full load test.
SECURITY_TESTS := tests/smartvillage tests/accounts tests/faults tests/grants/test_concurrency.py tests/bench/test_load_smoke.py
CHECK_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/smartvillage_check
CHECK_BROKER_URL ?= redis://127.0.0.1:6379/13
check-security: $(VENV)/.installed
	DATABASE_URL=$(CHECK_DATABASE_URL) CELERY_BROKER_URL=$(CHECK_BROKER_URL) REQUIRE_POSTGRES=1 REQUIRE_REDIS=1 \
		$(PY) -m pytest -q -p no:cacheprovider $(SECURITY_TESTS)
	$(MAKE) load

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .hypothesis
