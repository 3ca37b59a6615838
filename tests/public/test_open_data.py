"""The open data: a CSV per level, a Frictionless Data Package that `frictionless validate` accepts with no
error, and a DCAT catalogue (JSON-LD) whose every distribution can be downloaded."""

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from grants.models import GrantStatus
from public import selectors
from rollout.models import Blocker, PillarStatus, Signal
from villages.models import District, Regency, Village

pytestmark = pytest.mark.django_db

FRICTIONLESS = shutil.which("frictionless", path=str(Path(sys.executable).parent))
TABLES = ("provinsi", "kabupaten", "kecamatan", "desa")


def _rows(client, name: str) -> list[dict]:
    response = client.get(reverse("public:csv", args=[name]))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def _download_package(client, directory: Path) -> dict:
    """The data package and its files as a harvester saves them: side by side, named as the package says."""
    package = client.get(reverse("public:datapackage")).json()
    (directory / "datapackage.json").write_text(json.dumps(package), encoding="utf-8")
    for resource in package["resources"]:
        (directory / resource["path"]).write_bytes(client.get(reverse("public:csv", args=[resource["name"]])).content)
    return package


def test_each_level_is_a_csv_of_its_active_units(client, public_world):
    assert [row["code"] for row in _rows(client, "provinsi")] == ["18"]
    assert [row["code"] for row in _rows(client, "kabupaten")] == list(
        Regency.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)
    )
    assert [row["code"] for row in _rows(client, "kecamatan")] == list(
        District.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)
    )
    assert [row["code"] for row in _rows(client, "desa")] == list(
        Village.objects.filter(is_active=True).order_by("code").values_list("code", flat=True)
    )


def test_the_village_file_holds_statuses_categories_and_grant_stages(client, public_world):
    rows = {row["code"]: row for row in _rows(client, "desa")}
    blocked = rows[public_world.villages[1].code]
    paid = rows[public_world.grants["returned"].village.code]

    assert (blocked["pillar1"], blocked["signal"], blocked["blocker"]) == (
        PillarStatus.IN_PROGRESS,
        Signal.NONE,
        Blocker.NO_SIGNAL,
    )
    assert (blocked["grant_status"], blocked["grant_amount"], blocked["disbursed_month"]) == ("approved", "6000000", "")
    transfer = public_world.grants["returned"].disbursement.transfer_date
    assert (paid["grant_status"], paid["disbursed_month"], paid["returned_amount"]) == (
        GrantStatus.DISBURSED,
        f"{transfer:%Y-%m}",
        "1500000",
    )
    assert list(blocked) == [field["name"] for field in _schema(client, "desa")["fields"]]


def _schema(client, name: str) -> dict:
    package = client.get(reverse("public:datapackage")).json()
    return next(resource["schema"] for resource in package["resources"] if resource["name"] == name)


def test_the_province_file_has_the_headline_money(client, public_world):
    (province,) = _rows(client, "provinsi")

    assert (province["allocation"], province["disbursed"], province["returned"]) == ("48000000", "24000000", "1500000")
    assert (province["net_disbursed"], province["remaining"], province["bank_confirmed"]) == (
        "22500000",
        "25500000",
        "",
    )


def test_the_data_package_describes_the_files_with_codes_decree_and_licence(client, public_world):
    package = client.get(reverse("public:datapackage")).json()

    assert [resource["path"] for resource in package["resources"]] == [f"{name}.csv" for name in TABLES]
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert any("Kepmendagri 300.2.2-2138/2025" in source["title"] for source in package["sources"])
    desa = _schema(client, "desa")
    code = next(field for field in desa["fields"] if field["name"] == "code")
    assert code["constraints"]["pattern"] == r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}"
    assert desa["foreignKeys"] == [
        {"fields": ["district_code"], "reference": {"resource": "kecamatan", "fields": ["code"]}}
    ]
    types = {field["name"]: field["type"] for field in desa["fields"]}
    assert (types["grant_amount"], types["adopted"], types["disbursed_month"]) == ("integer", "boolean", "yearmonth")


@pytest.mark.skipif(FRICTIONLESS is None, reason="frictionless is a pinned test dependency (requirements.txt)")
def test_frictionless_validate_accepts_the_data_package_with_no_error(client, public_world, tmp_path):
    _download_package(client, tmp_path)

    run = subprocess.run(
        [FRICTIONLESS, "validate", "--json", "datapackage.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    report = json.loads(run.stdout)
    errors = [error for task in report["tasks"] for error in task["errors"]] + report["errors"]
    assert report["valid"] and errors == [], json.dumps(errors, indent=1)[:3000]
    assert sorted(task["name"] for task in report["tasks"]) == sorted(TABLES)
    assert sum(task["stats"]["rows"] for task in report["tasks"]) == 1 + 2 + 3 + 8


@pytest.mark.skipif(FRICTIONLESS is None, reason="frictionless is a pinned test dependency (requirements.txt)")
def test_frictionless_finds_a_broken_code_so_its_validation_means_something(client, public_world, tmp_path):
    _download_package(client, tmp_path)
    villages = tmp_path / "desa.csv"
    villages.write_text(villages.read_text().replace(public_world.villages[0].code, "18.01.01.12"), encoding="utf-8")

    run = subprocess.run(
        [FRICTIONLESS, "validate", "--json", "datapackage.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )

    report = json.loads(run.stdout)
    assert not report["valid"]
    assert {error["type"] for task in report["tasks"] for error in task["errors"]} == {"constraint-error"}


def test_the_dcat_catalogue_lists_a_dataset_per_file_with_downloads_that_work(client, public_world):
    response = client.get(reverse("public:catalogue"))
    catalogue = response.json()

    assert response["Content-Type"] == "application/ld+json"
    assert catalogue["@type"] == "dcat:Catalog" and catalogue["@context"]["dcat"] == "http://www.w3.org/ns/dcat#"
    datasets = catalogue["dcat:dataset"]
    assert [dataset["dct:identifier"] for dataset in datasets] == [f"smart-village-18-{name}" for name in TABLES]
    for dataset in datasets:
        assert dataset["dct:license"]["@id"] == "https://creativecommons.org/licenses/by/4.0/"
        assert dataset["dct:modified"]["@value"]
        for distribution in dataset["dcat:distribution"]:
            url = distribution["dcat:downloadURL"]["@id"]
            assert url.startswith("http://testserver/publik/data/")
            assert client.get(url.removeprefix("http://testserver")).status_code == 200


def test_the_files_are_as_of_the_pages_edition(client, public_world):
    edition = selectors.Edition.of(selectors.province_unit())

    for name in TABLES:
        assert client.get(reverse("public:csv", args=[name]))["ETag"] == f'W/"{edition.tag}-id"'
    assert client.get(reverse("public:datapackage"))["ETag"] == client.get("/publik/")["ETag"]
