"""Province administrators load a newer region list in the browser: upload, review (filter by change and
regency), decide a row, apply; the same service as `load_regions --apply`. Nobody else may."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import AuditAction, AuditEntry, Role
from tests.factories import UserFactory
from villages.models import Regency, RegionListUpload, RegionVersion, Village
from villages.region_plan import DATA_DIR
from villages.services import DEFAULT_REGIONS_FILE, regions_load

pytestmark = pytest.mark.django_db

LISTS = "/registry/lists/"
DECREE = {"decree": "Kepmendagri 300.2.2-2138/2025", "valid_from": "2025-04-25", "confirm": "on"}


@pytest.fixture
def registry_2019(db):
    regions_load(path=DATA_DIR / "lampung_regions_2019.csv")


def _upload(client, path=DEFAULT_REGIONS_FILE, name="wilayah_2025.csv"):
    return client.post(LISTS, {"file": SimpleUploadedFile(name, path.read_bytes(), content_type="text/csv")})


def _registry():
    return list(Village.objects.order_by("pk").values_list("pk", "code", "name", "district_id", "is_active"))


def test_an_admin_uploads_reviews_by_change_and_regency_and_applies(registry_2019, client, province_admin):
    client.force_login(province_admin)

    uploaded = _upload(client)
    upload = RegionListUpload.objects.get()
    review = client.get(uploaded["Location"], {"change": "recode", "regency": "18.08"})
    applied = client.post(f"{LISTS}{upload.pk}/apply/", DECREE)

    assert uploaded.status_code == 302 and uploaded["Location"] == f"{LISTS}{upload.pk}/"
    page = review.content.decode()
    assert review.status_code == 200
    assert page.count('id="line-') == 13  # Umpu Semenguk's villages, moved from Blambangan Umpu
    assert "18.08.15." in page and "18.12." not in page
    assert applied.status_code == 302
    assert Village.objects.filter(district__code="18.08.15").count() == 13
    upload.refresh_from_db()
    assert (upload.applied_by, upload.decree) == (province_admin, DECREE["decree"])
    entries = AuditEntry.objects.filter(action=AuditAction.REGION_CHANGED)
    assert entries.count() == 146 and set(entries.values_list("actor", flat=True)) == {province_admin.pk}
    assert client.post(f"{LISTS}{upload.pk}/apply/", DECREE).status_code == 400  # once


def test_a_row_decided_wrongly_stops_the_apply_with_its_line_and_writes_nothing(registry_2019, client, province_admin):
    client.force_login(province_admin)
    _upload(client)
    upload = RegionListUpload.objects.get()
    line = next(
        number
        for number, text in enumerate(upload.plan.splitlines(), start=1)
        if ",recode," in text and "18.08.15" in text
    )
    before, versions = _registry(), RegionVersion.objects.count()

    decided = client.post(f"{LISTS}{upload.pk}/", {"line": line, "change": "gone", "new_code": ""})
    refused = client.post(f"{LISTS}{upload.pk}/apply/", DECREE)

    assert decided.status_code == 302
    assert refused.status_code == 400
    assert f"line {line}:" in refused.content.decode() or "has no row" in refused.content.decode()
    assert _registry() == before and RegionVersion.objects.count() == versions
    assert RegionListUpload.objects.get().applied_at is None


def test_deciding_a_row_with_a_code_not_in_the_list_is_a_form_error(registry_2019, client, province_admin):
    client.force_login(province_admin)
    _upload(client)
    upload = RegionListUpload.objects.get()

    response = client.post(f"{LISTS}{upload.pk}/", {"line": 2, "change": "recode", "new_code": "99.99.99.9999"})

    assert response.status_code == 400
    assert "99.99.99.9999" in response.content.decode()


def test_a_file_that_is_not_a_region_list_is_a_form_error_with_its_line(registry_2019, client, province_admin):
    client.force_login(province_admin)

    response = client.post(
        LISTS, {"file": SimpleUploadedFile("x.csv", b"code,name\n\xff\xfe", content_type="text/csv")}
    )

    assert response.status_code == 200
    assert "line 2" in response.content.decode() or "line 1" in response.content.decode()
    assert not RegionListUpload.objects.exists()


@pytest.mark.parametrize("role", [Role.PROVINCE_STAFF, Role.AUDITOR, Role.REGENCY_OFFICER])
def test_only_province_administrators_may_load_a_list(registry_2019, client, province_admin, role):
    regency = Regency.objects.get(code="18.01") if role == Role.REGENCY_OFFICER else None
    client.force_login(province_admin)
    _upload(client)
    upload = RegionListUpload.objects.get()
    client.force_login(UserFactory(username="lain", role=role, regency=regency))
    before = _registry()

    assert client.get(LISTS).status_code == 403
    assert _upload(client).status_code == 403
    assert client.get(f"{LISTS}{upload.pk}/").status_code == 403
    assert client.post(f"{LISTS}{upload.pk}/", {"line": 2, "change": "gone", "new_code": ""}).status_code == 403
    assert client.post(f"{LISTS}{upload.pk}/apply/", DECREE).status_code == 403
    assert RegionListUpload.objects.count() == 1 and _registry() == before


def test_anonymous_visitors_are_sent_to_log_in(client):
    assert client.get(LISTS)["Location"].startswith("/login/")
