"""The nightly recompute runs once per day, however many beats send it (one beat is the rule; a second one by
mistake must not double the work): rollout.services.adoption_recompute_nightly."""

import datetime

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from rollout import services
from rollout.models import AdoptionSnapshot, RecomputeRequest
from rollout.tasks import recompute_adoption_nightly
from tests.grants.test_concurrency import run_together

pytestmark = pytest.mark.django_db


def _runs(monkeypatch) -> list[int]:
    """Count the recomputes actually run (the real one still runs)."""
    runs = []
    recompute = services.adoption_recompute

    def counted(**kwargs):
        runs.append(1)
        return recompute(**kwargs)

    monkeypatch.setattr(services, "adoption_recompute", counted)
    return runs


def test_the_beat_sends_the_nightly_task(registry):
    assert settings.CELERY_BEAT_SCHEDULE["recompute-adoption-nightly"]["task"] == recompute_adoption_nightly.name


def test_a_second_tick_the_same_day_recomputes_nothing(registry, monkeypatch):
    runs = _runs(monkeypatch)

    first = recompute_adoption_nightly.apply().get()
    computed = list(AdoptionSnapshot.objects.values_list("computed_at", flat=True))
    second = recompute_adoption_nightly.apply().get()

    assert first > 0 and second is None
    assert runs == [1]
    assert list(AdoptionSnapshot.objects.values_list("computed_at", flat=True)) == computed
    assert RecomputeRequest.objects.get(pk=1).nightly_on == timezone.localdate()


def test_the_next_day_runs_again(registry, monkeypatch):
    runs = _runs(monkeypatch)
    services.adoption_recompute_nightly()
    RecomputeRequest.objects.filter(pk=1).update(nightly_on=timezone.localdate() - datetime.timedelta(days=1))

    assert services.adoption_recompute_nightly() > 0
    assert runs == [1, 1]


def test_a_failed_night_leaves_the_day_to_its_retry(registry, monkeypatch):
    def lost(**kwargs):
        raise OperationalError("connection lost")

    monkeypatch.setattr(services, "adoption_recompute", lost)
    with pytest.raises(OperationalError):
        services.adoption_recompute_nightly()
    monkeypatch.undo()

    assert RecomputeRequest.objects.get(pk=1).nightly_on is None
    assert services.adoption_recompute_nightly() > 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_beats_ticking_at_once_recompute_once(registry, monkeypatch):
    runs = _runs(monkeypatch)

    results, errors = run_together([services.adoption_recompute_nightly] * 4)

    assert errors == []
    assert sorted(results, key=lambda result: result is None)[1:] == [None, None, None]
    assert runs == [1]
