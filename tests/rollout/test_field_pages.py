"""What the officer's device keeps to report with no connection (issue 13): the village-less report form, the
regency's villages with their status, the queue page; the installable app's manifest and service worker."""

import json
import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import translation

from rollout import services
from rollout.models import Blocker, PillarStatus, Signal
from villages.models import Village

pytestmark = pytest.mark.django_db


def test_the_village_list_is_the_officers_regency_with_the_current_status(
    client, officer_a, province_staff, registry, django_assert_max_num_queries
):
    blocked = Village.objects.filter(regency=registry.regency_a).order_by("code").first()
    item = services.ReportInput(
        village=blocked,
        pillar1=PillarStatus.IN_PROGRESS,
        pillar2=PillarStatus.NOT_STARTED,
        pillar3=PillarStatus.NOT_STARTED,
        signal=Signal.NONE,
        signal_sufficient=False,
        blocker=Blocker.NO_SIGNAL,
        blocker_note="Menara BTS belum ada",
    )
    services.report_verify(report=services.report_submit(actor=officer_a, item=item), actor=province_staff)
    client.force_login(officer_a)

    with django_assert_max_num_queries(3):  # session, user, villages
        response = client.get("/rollout/offline/villages.json")

    villages = {row["code"]: row for row in response.json()["villages"]}
    assert set(villages) == set(Village.objects.filter(regency=registry.regency_a).values_list("code", flat=True))
    assert villages[blocked.code]["status"]["blocker"] == Blocker.NO_SIGNAL
    assert villages[blocked.code]["status"]["blocker_note"] == "Menara BTS belum ada"
    assert villages[blocked.code]["district"] == {"code": blocked.district.code, "name": blocked.district.name}
    never = next(row for code, row in villages.items() if code != blocked.code)
    assert never["status"] == {}


@pytest.mark.parametrize("url", ["/rollout/offline/villages.json", "/rollout/offline/report-form/", "/rollout/queue/"])
def test_only_regency_officers_get_what_the_device_keeps(client, province_staff, registry, url):
    client.force_login(province_staff)

    assert client.get(url).status_code == 403


def test_the_village_less_form_is_the_report_form_for_the_device_to_fill_in(client, officer_a, registry):
    client.force_login(officer_a)

    html = client.get("/rollout/offline/report-form/").content.decode()

    assert 'data-village-code=""' in html
    assert 'data-api="/api/v1/rollout/CODE/reports/"' in html
    assert 'name="pillar1"' in html and 'capture="environment"' in html and 'accept="image/*"' in html
    assert "data-queue-count" in html


def test_the_report_form_names_its_village_and_the_api_it_sends_to(client, officer_a, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)

    html = client.get(f"/rollout/villages/{village.code}/report/").content.decode()

    assert f'data-village-code="{village.code}"' in html
    # The form's controls are full size on a phone (no -sm).
    assert (
        'class="form-select"' in html and "form-select-sm" not in re.search(r"<form method=.*?</form>", html, re.S)[0]
    )


def test_the_service_worker_is_served_from_the_root_never_cached(client, officer_a):
    for user in (None, officer_a):
        if user:
            client.force_login(user)
        response = client.get("/sw.js")

        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/javascript")
        assert response["Service-Worker-Allowed"] == "/"
        assert {"no-cache", "no-store"} <= {part.strip() for part in response["Cache-Control"].split(",")}


def test_the_service_worker_keeps_the_static_files_and_the_officers_pages(client):
    text = client.get("/sw.js").content.decode()

    config = json.loads(re.search(r"const CONFIG = (\{.*?\});\n", text).group(1))
    urls = [entry["url"] for entry in config["precache"]]
    assert "/static/vendor/bootstrap-5.3.9/bootstrap.min.css" in urls and "/static/js/field.js" in urls
    assert all(entry["revision"] for entry in config["precache"])  # unhashed URLs (tests): a content hash
    assert config["warm"] == [
        "/",
        "/rollout/offline/report-form/",
        "/rollout/offline/villages.json",
        "/rollout/queue/",
        "/dashboard/lists/my-reports/",
    ]
    assert "/static/vendor/workbox-7.4.1/workbox-precaching.prod.js" in text
    assert "http" not in text.replace(" https://", "")  # nothing from elsewhere (Workbox's CDN included)


def test_the_manifest_makes_the_portal_installable(client):
    response = client.get(reverse("pwa-manifest"))

    manifest = response.json()
    assert response["Content-Type"] == "application/manifest+json"
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/"))


def test_the_registry_district_page_shows_the_rollout_status_not_active(client, officer_a, province_staff, registry):
    live = Village.objects.filter(district=registry.district_a1).order_by("code").first()
    item = services.ReportInput(
        village=live,
        pillar1=PillarStatus.LIVE,
        pillar2=PillarStatus.IN_PROGRESS,
        pillar3=PillarStatus.NOT_STARTED,
        signal=Signal.G4,
        signal_sufficient=True,
    )
    services.report_verify(report=services.report_submit(actor=officer_a, item=item), actor=province_staff)
    client.force_login(province_staff)

    html = client.get(f"/registry/districts/{registry.district_a1.code}/").content.decode()

    row = re.search(rf"<code>{re.escape(live.code)}</code>.*?</tr>", html, re.S).group(0)
    with translation.override("id"):
        assert re.findall(r'badge[^"]*">([^<]+)<', row) == [
            str(PillarStatus.LIVE.label),
            str(PillarStatus.IN_PROGRESS.label),
            str(PillarStatus.NOT_STARTED.label),
        ]
        assert f">{translation.gettext('active')}<" not in html


def test_the_grid_says_how_many_rows_will_be_sent(client, officer_a, registry):
    client.force_login(officer_a)

    html = client.get(f"/rollout/districts/{registry.district_a1.code}/bulk/").content.decode()

    assert re.search(r'data-bulk-count="0"[^>]*>0 [^<]+<', html)
    # The page's script writes the count in the reader's language (Indonesian by default).
    assert 'data-template="%(count)s baris akan dikirim."' in html


def test_only_the_officers_own_pages_are_marked_for_the_device_to_keep(client, officer_a, province_staff, registry):
    village = Village.objects.filter(regency=registry.regency_a).first()
    client.force_login(officer_a)
    officer_pages = [
        *json.loads(re.search(r"const CONFIG = (\{.*?\});\n", client.get("/sw.js").content.decode())[1])["warm"],
        f"/rollout/villages/{village.code}/report/",
    ]
    for url in officer_pages:
        assert client.get(url)["X-Field-Capture"] == "keep", url
    assert "X-Field-Capture" not in client.get("/rollout/reports/")

    client.force_login(province_staff)
    for url in ("/", "/dashboard/lists/my-reports/"):
        assert "X-Field-Capture" not in client.get(url), url
