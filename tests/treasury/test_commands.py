"""`reconcile_statement PATH --allocation ID [--dry-run]`: counts and amounts per outcome; the import
writes the statement once."""

import io

import pytest
from django.core.management import CommandError, call_command

from tests.treasury.statements import generate, to_csv, to_mt940, to_xlsx
from treasury.models import Outcome, Statement, StatementLine

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("reconcile_statement", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "writer"), [("rk.csv", to_csv), ("rk.xlsx", to_xlsx), ("rk.sta", to_mt940)])
def test_a_dry_run_prints_the_count_and_amount_of_each_outcome(
    tmp_path, allocation, disbursements, scenario, name, writer
):
    generated = generate(disbursements, scenario)
    path = tmp_path / name
    path.write_bytes(writer(generated))

    output = run(path, "--allocation", allocation.pk, "--dry-run").splitlines()

    for kind, count in generated.counts.items():
        assert f"{kind}: {count}" in output
        assert f"{kind}_amount: {generated.amounts[kind]}" in output
    assert not Statement.objects.exists() and not StatementLine.objects.exists() and not Outcome.objects.exists()


def test_a_bad_file_is_refused_with_its_lines(tmp_path, allocation, english):
    path = tmp_path / "rk.csv"
    path.write_text('tanggal,keterangan,referensi_bank,debet,kredit,saldo\n2024-01-05,TRF,R1,"1.500,50",,\n')

    with pytest.raises(CommandError, match=r"Line 2: debet: 1\.500,50 has a fraction of a rupiah"):
        run(path, "--allocation", allocation.pk, "--dry-run")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--allocation", 999999, "--dry-run"], "no allocation 999999"),
        (["--dry-run", "--columns", "jumlah=Jumlah"], "--columns"),
        (["--as-user", "petugas.tidak.ada"], "--as-user"),
    ],
)
def test_it_refuses_what_it_cannot_do(tmp_path, allocation, args, message):
    path = tmp_path / "rk.csv"
    path.write_text("tanggal,keterangan,debet,kredit\n2024-01-05,TRF,1,\n")
    if "--allocation" not in args:
        args = [*args, "--allocation", allocation.pk]

    with pytest.raises(CommandError, match=message):
        run(path, *args)


def test_an_import_prints_its_counts_and_a_second_import_changes_nothing(tmp_path, allocation, disbursements, scenario):
    generated = generate(disbursements, scenario)
    path = tmp_path / "rk.csv"
    path.write_bytes(to_csv(generated))

    output = run(path, "--allocation", allocation.pk).splitlines()

    for kind, count in generated.counts.items():
        assert f"{kind}: {count}" in output
        assert f"{kind}_amount: {generated.amounts[kind]}" in output
    statement = Statement.objects.get()
    assert statement.imported_by.role == "province_admin"
    rows = (StatementLine.objects.count(), Outcome.objects.count())

    again = run(path, "--allocation", allocation.pk)

    assert "nothing changed" in again
    assert (Statement.objects.count(), StatementLine.objects.count(), Outcome.objects.count()) == (1, *rows)
