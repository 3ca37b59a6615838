"""Field capture on the API: a report sent again is stored once, its capture time orders it, its photos are kept
without metadata and shown only to those who may read the village (README "Field capture (offline)")."""

import datetime
import io
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import ExifTags, Image

from accounts.models import Role
from rollout import services
from rollout.models import PillarStatus, ProgressReport, ReportPhoto, ReportStatus, VillageStatus
from rollout.photos import photo_storage
from tests.conftest import PASSWORD
from tests.factories import UserFactory
from villages.models import Village

pytestmark = pytest.mark.django_db

BULK = "/api/v1/reports/bulk/"


def _url(village: Village) -> str:
    return f"/api/v1/rollout/{village.code}/reports/"


def _body(**overrides) -> dict:
    return {
        "pillar1": PillarStatus.IN_PROGRESS,
        "pillar2": PillarStatus.NOT_STARTED,
        "pillar3": PillarStatus.NOT_STARTED,
        "signal": "3g",
        "signal_sufficient": True,
        "note": "Dicatat di balai desa tanpa sinyal",
        "client_uuid": str(uuid.uuid4()),
        **overrides,
    }


def _at(days_ago: float) -> str:
    return (
        (timezone.now() - datetime.timedelta(days=days_ago))
        .astimezone(datetime.timezone(datetime.timedelta(hours=7)))
        .isoformat()
    )


def jpeg(*, size=(2400, 1200), color=(200, 30, 30), gps: bool = False, fmt: str = "JPEG") -> bytes:
    """An image as a phone gives it: EXIF with the camera's make and, with `gps`, the position."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "KameraUji"
    if gps:
        position = exif.get_ifd(ExifTags.IFD.GPSInfo)
        position[ExifTags.GPS.GPSLatitudeRef] = "S"
        position[ExifTags.GPS.GPSLatitude] = (5.0, 25.0, 30.0)
        position[ExifTags.GPS.GPSLongitudeRef] = "E"
        position[ExifTags.GPS.GPSLongitude] = (105.0, 15.0, 0.0)
    out = io.BytesIO()
    if fmt == "PNG":
        image.save(out, fmt)
    else:
        image.save(out, fmt, exif=exif)
    return out.getvalue()


def _upload(content: bytes, name: str = "foto.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def _stored_files() -> list[str]:
    return sorted(str(path) for path in Path(photo_storage().location).rglob("*") if path.is_file())


@pytest.fixture
def village(registry) -> Village:
    return Village.objects.filter(district__code="18.01.01", is_active=True).order_by("code").first()


@pytest.fixture
def officer(api_client, officer_a):
    api_client.force_authenticate(officer_a)
    return officer_a


# --- exactly once -------------------------------------------------------------------------------


def test_it_creates_a_report_with_its_capture_time_and_client_uuid(api_client, officer, village):
    body = _body(captured_at=_at(2), latitude=-5.4258333333, longitude=105.25)

    response = api_client.post(_url(village), body, format="json")

    assert response.status_code == 201, response.content
    data = response.json()
    report = ProgressReport.objects.get(pk=data["id"])
    assert str(report.client_uuid) == data["client_uuid"] == body["client_uuid"]
    assert report.captured_at == datetime.datetime.fromisoformat(body["captured_at"])
    assert report.submitted_at > report.captured_at  # the server's receive time
    assert (str(report.latitude), str(report.longitude)) == ("-5.425833", "105.250000")
    assert data["late"] is False and data["photos"] == []
    assert datetime.datetime.fromisoformat(data["captured_at"]) == report.captured_at


def test_the_same_report_sent_again_answers_200_with_the_original(api_client, officer, village):
    body = _body(captured_at=_at(1))
    first = api_client.post(_url(village), body, format="json")

    again = api_client.post(_url(village), body, format="json")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ProgressReport.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def test_a_repeat_without_the_capture_time_is_the_same_report(api_client, officer, village):
    body = _body()
    first = api_client.post(_url(village), body, format="json")

    again = api_client.post(_url(village), body, format="json")

    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    "change",
    [
        {"pillar1": PillarStatus.LIVE},
        {"note": "Catatan lain"},
        {"captured_at": "2024-03-01T10:00:00+07:00"},
        {"latitude": -5.1, "longitude": 105.1},
    ],
    ids=["pillar", "note", "capture-time", "location"],
)
def test_the_same_client_uuid_with_other_content_is_refused_with_409(api_client, officer, village, change):
    body = _body(captured_at="2024-02-01T10:00:00+07:00")
    first = api_client.post(_url(village), body, format="json")
    assert first.status_code == 201

    response = api_client.post(_url(village), {**body, **change}, format="json")

    assert response.status_code == 409, response.content
    error = response.json()
    assert error["client_uuid"] and error["detail"]
    assert set(error["differs"]) == set(change)
    assert ProgressReport.objects.filter(client_uuid=body["client_uuid"]).count() == 1


def test_the_same_client_uuid_on_another_village_is_refused_with_409(api_client, officer, village):
    other = Village.objects.filter(regency__code="18.01", is_active=True).exclude(pk=village.pk).first()
    body = _body()
    api_client.post(_url(village), body, format="json")

    response = api_client.post(_url(other), body, format="json")

    assert response.status_code == 409 and response.json()["differs"] == ["village"]


def test_a_client_uuid_of_another_officer_is_refused_with_409(api_client, officer, village, registry):
    colleague = UserFactory(username="petugas.a2", role=Role.REGENCY_OFFICER, regency=registry.regency_a)
    body = _body()
    api_client.post(_url(village), body, format="json")
    api_client.force_authenticate(colleague)

    response = api_client.post(_url(village), body, format="json")

    assert response.status_code == 409 and response.json()["differs"] == ["submitted_by"]


def test_a_report_without_client_uuid_is_created_each_time(api_client, officer, village):
    body = _body()
    del body["client_uuid"]

    answers = [api_client.post(_url(village), body, format="json").status_code for _ in range(2)]

    assert answers == [201, 201]
    assert ProgressReport.objects.filter(village=village, client_uuid__isnull=True).count() == 2


@pytest.mark.parametrize(
    "captured_at",
    [
        lambda: (timezone.now() + datetime.timedelta(minutes=6)).isoformat(),
        lambda: "2021-12-31T23:59:00+07:00",
        lambda: "2024-05-01T10:00:00",
        lambda: "kemarin",
    ],
    ids=["6-minutes-ahead", "before-2022", "no-offset", "not-a-time"],
)
def test_a_capture_time_ahead_before_2022_or_without_offset_is_refused(api_client, officer, village, captured_at):
    response = api_client.post(_url(village), _body(captured_at=captured_at()), format="json")

    assert response.status_code == 400, response.content
    assert response.json()["captured_at"]
    assert not ProgressReport.objects.exists()


def test_a_capture_time_within_the_clock_skew_is_taken(api_client, officer, village):
    ahead = (timezone.now() + datetime.timedelta(minutes=4)).isoformat()

    assert api_client.post(_url(village), _body(captured_at=ahead), format="json").status_code == 201


def test_one_coordinate_without_the_other_is_refused(api_client, officer, village):
    response = api_client.post(_url(village), _body(latitude=-5.4), format="json")

    assert response.status_code == 400 and response.json()["longitude"]


def test_an_officer_of_another_regency_gets_404_and_province_staff_403(api_client, officer_b, province_staff, village):
    api_client.force_authenticate(officer_b)
    assert api_client.post(_url(village), _body(), format="json").status_code == 404
    api_client.force_authenticate(province_staff)
    assert api_client.post(_url(village), _body(), format="json").status_code == 403
    assert not ProgressReport.objects.exists()


def test_without_a_session_the_api_answers_401(client, village):
    response = client.post(_url(village), _body(), content_type="application/json")

    assert response.status_code == 401
    assert response.json()["detail"]


def test_an_expired_session_answers_401_so_the_device_keeps_the_report(officer_a, village):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username=officer_a.username, password=PASSWORD)
    browser.logout()

    response = browser.post(_url(village), _body(), content_type="application/json")

    assert response.status_code == 401


# --- bulk -----------------------------------------------------------------------------------------


def _bulk(villages, **overrides) -> dict:
    rows = []
    for village in villages:
        row = {"village": village.code, **_body(**overrides)}
        row.pop("note")
        rows.append(row)
    return {"district": villages[0].district.code, "reports": rows}


def test_a_bulk_sent_again_gives_the_originals_and_a_partly_new_one_only_the_new_rows(api_client, officer, registry):
    villages = list(Village.objects.filter(district__code="18.01.01", is_active=True).order_by("code"))
    body = _bulk(villages[:2], captured_at=_at(1))
    first = api_client.post(BULK, body, format="json")
    assert first.status_code == 201

    again = api_client.post(BULK, body, format="json")
    more = {**body, "reports": [*body["reports"], _bulk(villages[2:3])["reports"][0]]}
    grown = api_client.post(BULK, more, format="json")

    assert again.status_code == 200 and again.json() == first.json()
    assert grown.status_code == 201
    assert ProgressReport.objects.count() == 3
    ids = {row["id"] for row in grown.json()}
    assert {row["id"] for row in first.json()} < ids


def test_a_bulk_reusing_a_client_uuid_for_other_content_is_refused_whole(api_client, officer, registry):
    villages = list(Village.objects.filter(district__code="18.01.01", is_active=True).order_by("code"))
    body = _bulk(villages[:1])
    api_client.post(BULK, body, format="json")
    changed = {**body["reports"][0], "pillar1": PillarStatus.LIVE}
    fresh = _bulk(villages[1:2])["reports"][0]

    response = api_client.post(BULK, {**body, "reports": [fresh, changed]}, format="json")

    assert response.status_code == 409, response.content
    assert list(response.json()["reports"]) == ["1"]
    assert ProgressReport.objects.count() == 1


def test_a_bulk_with_a_capture_time_in_the_future_is_refused_by_row(api_client, officer, registry):
    villages = list(Village.objects.filter(district__code="18.01.01", is_active=True).order_by("code"))
    body = _bulk(villages[:2])
    body["reports"][1]["captured_at"] = (timezone.now() + datetime.timedelta(hours=1)).isoformat()

    response = api_client.post(BULK, body, format="json")

    assert response.status_code == 400
    assert response.json()["reports"]["1"]["captured_at"]
    assert not ProgressReport.objects.exists()


# --- late reports ---------------------------------------------------------------------------------


def _status(village: Village) -> VillageStatus:
    return VillageStatus.objects.select_related("last_report").get(village=village)


def test_a_late_report_does_not_replace_a_newer_verified_status_even_once_verified(
    api_client, officer, village, province_staff
):
    newer = api_client.post(_url(village), _body(pillar1=PillarStatus.LIVE, captured_at=_at(1)), format="json")
    services.report_verify(report=ProgressReport.objects.get(pk=newer.json()["id"]), actor=province_staff)

    # Recorded offline three days ago, sent only now.
    response = api_client.post(
        _url(village), _body(pillar1=PillarStatus.NOT_STARTED, captured_at=_at(3)), format="json"
    )

    assert response.status_code == 201 and response.json()["late"] is True
    late = ProgressReport.objects.get(pk=response.json()["id"])
    assert _status(village).last_report_id == newer.json()["id"]

    verified = services.report_verify(report=late, actor=province_staff)

    assert (verified.status, verified.late, verified.superseded) == (ReportStatus.VERIFIED, True, True)
    status = _status(village)
    assert (status.last_report_id, status.pillar1) == (newer.json()["id"], PillarStatus.LIVE)


def test_a_report_found_late_when_verified_is_flagged_then(api_client, officer, village, province_staff):
    older = api_client.post(_url(village), _body(pillar1=PillarStatus.IN_PROGRESS, captured_at=_at(3)), format="json")
    newer = api_client.post(_url(village), _body(pillar1=PillarStatus.LIVE, captured_at=_at(1)), format="json")
    assert older.json()["late"] is False and newer.json()["late"] is False  # nothing verified yet
    services.report_verify(report=ProgressReport.objects.get(pk=newer.json()["id"]), actor=province_staff)

    verified = services.report_verify(report=ProgressReport.objects.get(pk=older.json()["id"]), actor=province_staff)

    assert (verified.late, verified.superseded) == (True, True)
    assert _status(village).pillar1 == PillarStatus.LIVE


def test_the_status_follows_the_capture_time_not_the_arrival(api_client, officer, village, province_staff):
    older = api_client.post(_url(village), _body(pillar1=PillarStatus.IN_PROGRESS, captured_at=_at(5)), format="json")
    services.report_verify(report=ProgressReport.objects.get(pk=older.json()["id"]), actor=province_staff)
    newer = api_client.post(_url(village), _body(pillar1=PillarStatus.LIVE, captured_at=_at(2)), format="json")

    services.report_verify(report=ProgressReport.objects.get(pk=newer.json()["id"]), actor=province_staff)

    status = _status(village)
    assert (status.pillar1, status.last_report_id) == (PillarStatus.LIVE, newer.json()["id"])
    assert status.pillar1_since == timezone.localdate(datetime.datetime.fromisoformat(newer.json()["captured_at"]))


# --- photos ---------------------------------------------------------------------------------------


def _multipart(api_client, village, photos, **overrides):
    body = {**_body(captured_at=_at(1)), **overrides, "photos": photos}
    return api_client.post(_url(village), body, format="multipart")


def test_three_photos_are_stored_and_served_to_the_regency_officer_and_province_staff(
    api_client, officer, officer_a, village, province_staff, auditor
):
    photos = [_upload(jpeg(color=(i * 60, 90, 30)), name=f"foto{i}.jpg") for i in range(3)]

    response = _multipart(api_client, village, photos)

    assert response.status_code == 201, response.content
    data = response.json()
    assert [photo["position"] for photo in data["photos"]] == [1, 2, 3]
    assert all(max(photo["width"], photo["height"]) == 1600 for photo in data["photos"])
    for user in (officer_a, province_staff, auditor):
        browser = Client()
        browser.force_login(user)
        for photo in data["photos"]:
            served = browser.get(photo["url"])
            assert served.status_code == 200, (user, photo["url"])
            assert served["Content-Type"] == "image/jpeg"
            assert served["Cache-Control"] == "private, no-store"
            body = b"".join(served.streaming_content)
            assert len(body) == photo["size"]
            assert Image.open(io.BytesIO(body)).size == (photo["width"], photo["height"])


def test_photos_are_not_served_to_an_officer_of_another_regency_nor_anonymously(
    api_client, officer, officer_b, village
):
    data = _multipart(api_client, village, [_upload(jpeg())]).json()
    url = data["photos"][0]["url"]
    browser = Client()
    browser.force_login(officer_b)

    assert browser.get(url).status_code == 404
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert Client().get(url.replace("/1/", "/2/")).status_code == 302


def test_an_exif_gps_position_is_stripped_from_the_stored_photo(api_client, officer, village):
    original = jpeg(gps=True)
    source = Image.open(io.BytesIO(original)).getexif()
    assert source.get_ifd(ExifTags.IFD.GPSInfo)  # the fixture really carries a position
    assert source[ExifTags.Base.Make] == "KameraUji"

    data = _multipart(api_client, village, [_upload(original)]).json()

    photo = ReportPhoto.objects.get(report_id=data["id"])
    with photo_storage().open(photo.file, "rb") as file:
        stored = file.read()
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert "exif" not in image.info
    assert b"KameraUji" not in stored and b"Exif" not in stored
    assert data["latitude"] is None  # a position is kept only when the officer sends it


def test_a_png_and_a_webp_are_taken_and_stored_as_jpeg(api_client, officer, village):
    photos = [_upload(jpeg(fmt="PNG"), "layar.png", "image/png"), _upload(jpeg(fmt="WEBP"), "foto.webp", "image/webp")]

    data = _multipart(api_client, village, photos).json()

    assert [photo["content_type"] for photo in data["photos"]] == ["image/jpeg", "image/jpeg"]


def test_the_same_report_with_its_photos_sent_again_is_the_original(api_client, officer, village):
    content = jpeg()
    body = {**_body(captured_at=_at(1))}
    first = api_client.post(_url(village), {**body, "photos": [_upload(content)]}, format="multipart")

    again = api_client.post(_url(village), {**body, "photos": [_upload(content)]}, format="multipart")
    other = api_client.post(_url(village), {**body, "photos": [_upload(jpeg(color=(1, 2, 3)))]}, format="multipart")
    fewer = api_client.post(_url(village), body, format="multipart")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert (other.status_code, other.json()["differs"]) == (409, ["photos"])
    assert (fewer.status_code, fewer.json()["differs"]) == (409, ["photos"])
    assert ReportPhoto.objects.count() == 1


@pytest.mark.parametrize(
    "photos",
    [
        lambda: [_upload(b"%PDF-1.4 bukan foto", "laporan.pdf", "application/pdf")],
        lambda: [_upload(b"GIF89a" + b"\x00" * 100, "foto.jpg")],
        lambda: [_upload(jpeg()[:2000], "terpotong.jpg")],
        lambda: [_upload(jpeg(), f"foto{i}.jpg") for i in range(4)],
        lambda: [_upload(jpeg()), _upload(b"\xff\xd8\xff" + b"\x00" * (10 * 2**20), "besar.jpg")],
        lambda: [_upload(b"", "kosong.jpg")],
    ],
    ids=["pdf", "gif-named-jpg", "truncated-jpeg", "four-photos", "over-10-mb", "empty"],
)
def test_a_bad_photo_is_refused_with_400_naming_photos_and_nothing_is_written(api_client, officer, village, photos):
    before = _stored_files()

    response = _multipart(api_client, village, photos())

    assert response.status_code == 400, response.content
    assert response.json()["photos"]
    assert not ProgressReport.objects.exists() and not ReportPhoto.objects.exists()
    assert _stored_files() == before


def test_a_report_refused_for_its_content_writes_no_photo(api_client, officer, village):
    before = _stored_files()

    response = _multipart(api_client, village, [_upload(jpeg(color=(9, 9, 9)))], pillar1="hidup")

    assert response.status_code == 400 and response.json()["pillar1"]
    assert _stored_files() == before


def test_multipart_is_refused_with_415_on_other_endpoints(api_client, officer_a, province_staff, village):
    report = services.report_submit(
        actor=officer_a,
        item=services.ReportInput(
            village=village, pillar1="live", pillar2="live", pillar3="live", signal="4g", signal_sufficient=True
        ),
    )
    api_client.force_authenticate(province_staff)

    response = api_client.post(f"/api/v1/reports/{report.pk}/reject/", {"reason": "x"}, format="multipart")

    assert response.status_code == 415


# --- photos on the pages --------------------------------------------------------------------------


def test_the_review_row_and_the_village_page_show_the_photos_to_province_staff(
    api_client, officer, village, province_staff
):
    data = _multipart(api_client, village, [_upload(jpeg()), _upload(jpeg(color=(5, 5, 5)))]).json()
    browser = Client()
    browser.force_login(province_staff)

    for url in ("/rollout/reports/", f"/dashboard/villages/{village.code}/"):
        page = browser.get(url).content.decode()

        assert 'data-photo-count="2"' in page, url
        for photo in data["photos"]:
            assert f'src="{photo["url"]}"' in page


def test_the_review_list_runs_the_same_queries_with_more_photographed_reports(
    api_client, officer, village, province_staff
):
    _multipart(api_client, village, [_upload(jpeg())])
    browser = Client()
    browser.force_login(province_staff)
    with CaptureQueriesContext(connection) as few:
        browser.get("/rollout/reports/")
    for _ in range(3):
        _multipart(api_client, village, [_upload(jpeg()), _upload(jpeg(color=(1, 1, 1)))])

    with CaptureQueriesContext(connection) as many:
        page = browser.get("/rollout/reports/").content.decode()

    assert page.count("data-photo-count") == 4
    assert len(many) == len(few)
