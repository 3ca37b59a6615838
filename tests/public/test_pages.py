"""The public transparency pages (/publik/): no login, published figures only, the dashboard's figures,
drill-down to a village, cacheable with revalidation, rate limited, GET and HEAD only."""

import csv
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, reverse
from django.utils.http import http_date

from grants import services as grant_services
from grants.models import GrantStatus
from public import selectors
from rollout import services
from rollout.models import AdoptionSnapshot, DemoDataset, SnapshotLevel
from smartvillage.templatetags.rupiah import rupiah
from tests.public.conftest import SECRET, SECRETS
from tests.smartvillage.test_url_access import walk
from treasury.parsers import statement_parse
from treasury.services import statement_import
from villages.models import District, Regency, Village

pytestmark = pytest.mark.django_db

PUBLIC_ROUTES = sorted(name for name, _params in walk(get_resolver().url_patterns) if name.startswith("public:"))


def public_urls() -> list[str]:
    """Every page and download of /publik/: each regency, district and village, in both languages."""
    urls = [reverse("public:home"), reverse("public:datapackage"), reverse("public:catalogue")]
    urls += [reverse("public:csv", args=[name]) for name in ("provinsi", "kabupaten", "kecamatan", "desa")]
    urls += [reverse("public:regency", args=[code]) for code in Regency.objects.values_list("code", flat=True)]
    urls += [reverse("public:district", args=[code]) for code in District.objects.values_list("code", flat=True)]
    urls += [reverse("public:village", args=[code]) for code in Village.objects.values_list("code", flat=True)]
    return [url + query for url in urls for query in ("", "?lang=en")]


def test_the_walk_covers_every_public_route(public_world):
    walked = {re.sub(r"(kabupaten|kecamatan|desa)/[^/]+/", r"\1/X/", url.split("?")[0]) for url in public_urls()}

    assert {"/publik/", "/publik/kabupaten/X/", "/publik/kecamatan/X/", "/publik/desa/X/"} <= walked
    assert len(PUBLIC_ROUTES) == 7  # home, regency, district, village, the CSV, the data package, the catalogue


def test_every_public_page_and_download_needs_no_login_and_publishes_no_person_and_no_free_text(client, public_world):
    leaks = []
    for url in public_urls():
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        leaks += [f"{url}: {name}" for name, secret in SECRETS.items() if secret in text]
        if SECRET in text:
            leaks.append(f"{url}: {SECRET}")

    assert leaks == []


def test_the_scan_would_see_a_leak(client, public_world):
    # The markers are in the database, and the dashboard (signed in) shows some of them: the scan means something.
    client.force_login(public_world.grants["planned"].events.first().actor)
    village = public_world.villages[1]

    page = client.get(reverse("dashboard:village", args=[village.code])).content.decode()

    assert SECRETS["blocker_note"] in page and SECRETS["officer_username"] in page


def test_a_village_shows_its_pillars_signal_blocker_category_and_grant_stage_with_month_and_amount(
    client, public_world
):
    blocked = public_world.villages[1]  # verified: in progress, no signal; its grant approved
    disbursed = public_world.grants["disbursed"]

    blocked_page = client.get(reverse("public:village", args=[blocked.code])).content.decode()
    paid_page = client.get(reverse("public:village", args=[disbursed.village.code])).content.decode()

    assert 'data-col="pillar1" data-value="in_progress">Dalam proses' in blocked_page
    assert 'data-col="blocker" data-value="no_signal">Tidak ada sinyal internet' in blocked_page
    assert 'data-col="grant_stage" data-value="approved">Disetujui' in blocked_page
    transfer = disbursed.disbursement.transfer_date
    assert f'data-col="disbursed_month" data-value="{transfer:%Y-%m}"' in paid_page
    assert 'data-col="grant_stage" data-value="disbursed">Disalurkan' in paid_page
    assert f'data-col="grant_amount" data-value="{disbursed.amount}">{rupiah(disbursed.amount)}' in paid_page


@pytest.mark.parametrize(
    "state, stage",
    [
        (GrantStatus.PLANNED, "Direncanakan"),
        (GrantStatus.APPROVED, "Disetujui"),
        (GrantStatus.DISBURSED, "Disalurkan"),
        (GrantStatus.ACCOUNTED, "LPJ diterima"),
        (GrantStatus.CLOSED, "LPJ diterima, ditutup"),
        (GrantStatus.CANCELLED, "Dibatalkan"),
    ],
)
def test_every_grant_state_reads_as_a_public_stage(client, public_world, state, stage):
    village = public_world.grants[state].village

    page = client.get(reverse("public:village", args=[village.code])).content.decode()

    assert f'data-col="grant_stage" data-value="{state}">{stage}</span>' in page


def test_a_partial_return_is_shown_beside_the_disbursement(client, public_world):
    village = public_world.grants["returned"].village

    page = client.get(reverse("public:village", args=[village.code])).content.decode()

    assert f'data-col="returned_amount" data-value="1500000">{rupiah(1_500_000)}' in page


def test_the_drill_down_goes_from_the_province_to_a_village(client, public_world):
    village = public_world.villages[0]

    province = client.get("/publik/").content.decode()
    regency = client.get(reverse("public:regency", args=[village.regency.code])).content.decode()
    district = client.get(reverse("public:district", args=[village.district.code])).content.decode()

    assert f'href="{reverse("public:regency", args=[village.regency.code])}"' in province
    assert f'href="{reverse("public:district", args=[village.district.code])}"' in regency
    assert f'href="{reverse("public:village", args=[village.code])}"' in district


def test_the_english_pages_keep_the_language_in_their_links(client, public_world):
    response = client.get("/publik/?lang=en")
    html = response.content.decode()

    assert response["Content-Language"] == "en"
    assert "Desa adopted" in html and 'href="/publik/kabupaten/18.01/?lang=en"' in html
    assert 'href="/publik/" lang="id"' in html


def test_an_unknown_or_inactive_unit_is_a_404(client, public_world):
    Village.objects.filter(code=public_world.villages[0].code).update(is_active=False)

    assert client.get(reverse("public:regency", args=["18.99"])).status_code == 404
    assert client.get(reverse("public:village", args=[public_world.villages[0].code])).status_code == 404
    assert client.get(reverse("public:csv", args=["users"])).status_code == 404


# --- caching -------------------------------------------------------------------------------------


def test_a_page_is_public_and_cacheable_with_validators_from_the_snapshot_time(client, public_world):
    snapshot = AdoptionSnapshot.objects.filter(level=SnapshotLevel.PROVINCE).order_by("-date").first()
    latest_grant_event = max(grant.events.last().created_at for grant in public_world.grants.values())

    response = client.get("/publik/")

    assert response["Cache-Control"] == "public, max-age=300"
    assert response["ETag"].startswith('W/"')
    modified = max(snapshot.computed_at, latest_grant_event)
    assert response["Last-Modified"] == http_date(int(modified.timestamp()))
    assert "Cookie" not in response.get("Vary", "") and "Accept-Language" not in response.get("Vary", "")
    assert not response.cookies


@pytest.mark.parametrize("url", ["/publik/", "/publik/kecamatan/18.01.01/", "/publik/data/desa.csv"])
def test_a_conditional_request_for_the_same_edition_is_answered_304(client, public_world, url):
    first = client.get(url)

    by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert (by_etag.status_code, by_date.status_code) == (304, 304)
    assert by_etag.content == b"" and by_etag["ETag"] == first["ETag"]
    assert by_etag["Cache-Control"] == "public, max-age=300"


def test_a_new_snapshot_or_a_grant_movement_is_a_new_edition(client, public_world, province_staff):
    first = client.get("/publik/")["ETag"]
    services.adoption_recompute()
    after_snapshot = client.get("/publik/", HTTP_IF_NONE_MATCH=first)
    grant_services.grant_approve(grant=public_world.grants["planned"], actor=province_staff)
    after_money = client.get("/publik/", HTTP_IF_NONE_MATCH=after_snapshot["ETag"])

    assert after_snapshot.status_code == 200 and after_snapshot["ETag"] != first
    assert after_money.status_code == 200 and after_money["ETag"] != after_snapshot["ETag"]


def test_the_province_page_runs_at_most_two_queries_when_its_edition_is_cached(client, public_world):
    cache.clear()
    with CaptureQueriesContext(connection) as cold:
        client.get("/publik/")
    with CaptureQueriesContext(connection) as warm:
        html = client.get("/publik/").content.decode()
    with CaptureQueriesContext(connection) as revalidated:
        assert client.get("/publik/", HTTP_IF_NONE_MATCH=f'W/"{_edition_tag()}-id"').status_code == 304

    assert len(warm) <= 2, [query["sql"] for query in warm]
    assert len(revalidated) <= 2
    assert len(cold) > len(warm)  # the cached page is the figures' work saved
    assert 'data-figure="units" data-value="8"' in html


def _edition_tag() -> str:
    return selectors.Edition.of(selectors.province_unit()).tag


def test_a_signed_in_visitor_gets_the_same_public_page_with_nothing_of_theirs(client, public_world, province_staff):
    anonymous = client.get("/publik/")
    client.force_login(province_staff)

    signed_in = client.get("/publik/")

    assert signed_in.content == anonymous.content
    assert signed_in["Cache-Control"] == "public, max-age=300"
    assert province_staff.username not in signed_in.content.decode()
    assert not signed_in.cookies and "Cookie" not in signed_in.get("Vary", "")


# --- methods and the rate limit -------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_only_get_and_head_are_answered(client, public_world, method):
    for url in ("/publik/", "/publik/data/desa.csv", "/publik/data/datapackage.json"):
        assert getattr(client, method)(url).status_code == 405


def test_head_answers_the_headers_without_the_body(client, public_world):
    response = client.head("/publik/data/desa.csv")

    assert response.status_code == 200 and response.content == b""
    assert response["ETag"] == client.get("/publik/data/desa.csv")["ETag"]


def test_an_address_past_the_rate_limit_gets_429_and_another_address_does_not(client, public_world, settings):
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 3
    answers = [client.get("/publik/", REMOTE_ADDR="203.0.113.7").status_code for _ in range(4)]
    refused = client.get("/publik/data/desa.csv", REMOTE_ADDR="203.0.113.7")

    other = client.get("/publik/", REMOTE_ADDR="203.0.113.8")

    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert refused["Cache-Control"] == "no-store"
    assert other.status_code == 200


def test_a_forged_forwarding_header_does_not_escape_the_rate_limit(client, public_world, settings):
    settings.PUBLIC_RATE_LIMIT_PER_MINUTE = 2
    statuses = [
        client.get("/publik/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(3)
    ]

    assert statuses == [200, 200, 429]


def test_the_demo_label_follows_the_demo_data(client, public_world):
    assert "Data demo" not in client.get("/publik/").content.decode()
    DemoDataset.objects.create()

    assert "Data demo" in client.get("/publik/").content.decode()


def test_pages_before_any_snapshot_say_so(client, registry):
    response = client.get("/publik/")

    assert response.status_code == 200
    assert "Belum ada angka" in response.content.decode()
    assert not response.has_header("Last-Modified")  # neither a snapshot nor a grant movement yet


# --- confirmed by the bank (the treasury's reconciliation, where it knows) ------------------------


def test_nothing_is_said_of_the_bank_before_a_statement_is_imported(client, public_world):
    assert selectors.bank_confirmed(allocation=public_world.allocation) is None
    page = client.get("/publik/").content.decode()
    assert 'data-figure="bank_confirmed"' not in page
    assert 'data-col="bank_confirmed"' not in page
    (row,) = list(csv.DictReader(client.get("/publik/data/provinsi.csv").content.decode().splitlines()))
    assert row["bank_confirmed"] == ""


def test_the_bank_confirmed_money_is_shown_once_a_statement_is_imported(client, public_world, province_admin):
    # The bank's statement pays two of the disbursed grants' SP2D with their amounts (in its own spelling).
    paid = [public_world.grants["disbursed"], public_world.grants["accounted"]]
    lines = ["tanggal,keterangan,referensi_bank,debet,kredit"]
    for number, grant in enumerate(paid):
        disbursement = grant.disbursement
        lines.append(
            f"{disbursement.transfer_date:%d/%m/%Y},TRF {disbursement.reference.lower()} DESA,BL{number},"
            f"{disbursement.amount},"
        )
    statement = statement_parse(data="\n".join(lines).encode(), file_name="rk.csv")
    before = client.get("/publik/")
    statement_import(allocation=public_world.allocation, parsed=statement, actor=province_admin)
    expected = sum(grant.amount for grant in paid)
    regency_code = paid[0].village.regency.code

    # A new edition: the page cached before the import is not served again.
    assert client.get("/publik/", HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200
    province = client.get("/publik/").content.decode()
    regency = client.get(f"/publik/kabupaten/{regency_code}/").content.decode()
    (row,) = list(csv.DictReader(client.get("/publik/data/provinsi.csv").content.decode().splitlines()))

    assert f'data-figure="bank_confirmed" data-value="{expected}">{rupiah(expected)}' in province
    assert f'data-col="bank_confirmed" data-value="{expected}"' in province
    assert f'data-figure="bank_confirmed" data-value="{expected}">{rupiah(expected)}' in regency
    assert row["bank_confirmed"] == str(expected)
    assert selectors.bank_confirmed(allocation=public_world.allocation).by_regency == {regency_code: expected}
