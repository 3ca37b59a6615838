"""Hostile input end to end: oversized files and request bodies, wrong encodings, formulas and HTML in names."""

import csv
import gzip
import io
import json
from pathlib import Path

import pytest
from django.urls import reverse

from rollout.models import ProgressReport
from villages import region_files as village_services
from villages.models import Village
from villages.services import RegionFileError, regions_load

pytestmark = pytest.mark.django_db

HEADER = "code,name,level,parent_code,regency_kind,kind\n"
PARENTS = [
    "18,Lampung,province,,,",
    "18.01,Kabupaten Lampung Selatan,regency,18,kabupaten,",
    "18.01.04,Natar,district,18.01,,",
]
FORMULA = "=cmd|' /C calc'!A0"
HTML = '<img src=x onerror="alert(1)">'


def write(tmp_path: Path, rows: list[str], name: str = "regions.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_file_above_the_size_limit_is_refused_before_parsing_and_writes_nothing(tmp_path, monkeypatch):
    path = write(tmp_path, [*PARENTS, "18.01.04.2001,Hajimena,village,18.01.04,,desa"])
    monkeypatch.setattr(village_services, "MAX_FILE_BYTES", path.stat().st_size - 1)

    with pytest.raises(RegionFileError, match="larger than"):
        regions_load(path=path)

    assert not Village.objects.exists()


def test_a_compressed_file_that_expands_above_the_limit_is_refused(tmp_path, monkeypatch):
    # A small .gz that inflates past the limit (a "zip bomb") is cut off while reading, not after.
    monkeypatch.setattr(village_services, "MAX_FILE_BYTES", 1024 * 1024)
    path = tmp_path / "bomb.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(HEADER.encode() + b"18,Lampung,province,,,\n" * 200_000)
    assert path.stat().st_size < 100_000

    with pytest.raises(RegionFileError, match="larger than"):
        regions_load(path=path)

    assert not Village.objects.exists()


def test_formulas_and_html_in_imported_names_are_stored_as_text_and_never_come_back_active(
    tmp_path, client, province_staff
):
    path = write(
        tmp_path,
        [*PARENTS, f'18.01.04.2001,"{FORMULA}",village,18.01.04,,desa', f"18.01.04.2002,{HTML},village,18.01.04,,desa"],
    )
    regions_load(path=path)
    client.force_login(province_staff)

    assert Village.objects.get(code="18.01.04.2001").name == FORMULA
    page = client.get(reverse("villages:district", args=["18.01.04"])).content.decode()
    assert HTML not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    export = client.get(reverse("dashboard:export", args=["villages"]), {"district": "18.01.04", "file": "csv"})
    cells = [cell for row in csv.reader(io.StringIO(export.content.decode("utf-8-sig"))) for cell in row]
    assert "'" + FORMULA in cells and FORMULA not in cells
    api = client.get("/api/v1/villages/", {"district": "18.01.04"}).json()
    assert {row["name"] for row in api["results"]} == {FORMULA, HTML}  # JSON carries the text as it is


def test_an_oversized_api_body_is_refused_with_a_json_400_and_nothing_written(api_client, officer_a, registry):
    api_client.force_authenticate(officer_a)
    village = Village.objects.filter(regency=officer_a.regency).first()
    row = {"village": village.code, "pillar1": "live", "pillar2": "live", "pillar3": "live", "note": "x" * 1000}
    body = json.dumps({"district": village.district.code, "reports": [row] * 3000})  # about 3 MB

    response = api_client.post("/api/v1/reports/bulk/", body, content_type="application/json")

    assert response.status_code in (400, 413), response.status_code
    assert response.json()["detail"]
    assert not ProgressReport.objects.exists()


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"\xff\xfe\x00not json", "application/json"),
        (b'{"district": "18.01.01", "reports": [', "application/json"),
        (b"reports=1", "text/csv"),
    ],
    ids=["wrong encoding", "truncated json", "unsupported type"],
)
def test_an_unreadable_api_body_is_refused_with_a_json_4xx(api_client, officer_a, registry, body, content_type):
    api_client.force_authenticate(officer_a)

    response = api_client.post("/api/v1/reports/bulk/", body, content_type=content_type)

    assert response.status_code in (400, 415), response.status_code
    assert response.json()["detail"]
    assert not ProgressReport.objects.exists()
