"""The public pages show the internal dashboard's figures for the same snapshot.

Each page is rendered by its own view and template (the dashboard for province staff, the public page for an
anonymous visitor) and read back from its HTML as a visitor sees it; the figures read must be equal. So a
figure computed, rounded or named differently on one of them fails here."""

import re
from html import unescape

import pytest

from rollout import services
from tests.public.conftest import PublicWorld

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _element(html: str, element_id: str) -> str:
    """The inner HTML of the element with `element_id` up to its first closing </div>."""
    return re.search(rf'id="{element_id}"[^>]*>(.*?)</div>', html, re.S).group(1)


def _title(html: str, element_id: str) -> str:
    return unescape(re.search(rf'title="([^"]*)" id="{element_id}"', html).group(1))


def dashboard_figures(html: str) -> dict:
    """The headline as the dashboard shows it: counts as text, money in full (the cards' titles)."""
    card = re.search(
        r'id="headline-adopted-desa">\s*<div[^>]*>(.*?)</div>\s*<div class="small">(.*?)</div>', html, re.S
    )
    percent, counts = _text(card.group(1)), _text(card.group(2))
    adopted, _desa, target = re.match(r"([\d.]+) / ([\d.]+) · \w+ (\d+) %", counts).groups()
    return {
        "units": _text(_element(html, "headline-units")),
        "adopted_desa_pct": percent,
        "adopted_desa": adopted,
        "target": target,
        "adopted_pct": _text(_element(html, "headline-adopted-all")),
        "blocked_no_signal": _text(_element(html, "headline-blocked")),
        "disbursed": _title(html, "headline-disbursed"),
        "returned": _title(html, "headline-returned"),
        "remaining": _title(html, "headline-remaining"),
    }


def public_figures(html: str) -> dict:
    figures = dict(re.findall(r'data-figure="([^"]+)" data-value="[^"]*">(.*?)</(?:div|span)>', html, re.S))
    return {name: _text(value) for name, value in figures.items()}


TABLE_COLUMNS = ("units", "adopted", "adopted_pct", "pillar1", "pillar2", "pillar3", "blocked", "disbursed")


def table(html: str) -> dict[str, dict[str, str]]:
    """Per row code, the value of each column both tables have (their data-value, the sortable figure)."""
    rows = {}
    for code, row in re.findall(r'<tr data-code="([^"]+)">(.*?)</tr>', html, re.S):
        cells = dict(re.findall(r'data-col="([^"]+)" data-value="([^"]*)"', row))
        rows[code] = {column: cells[column] for column in TABLE_COLUMNS}
    return rows


@pytest.mark.parametrize(
    "dashboard_url, public_url", [("/", "/publik/"), ("/dashboard/regencies/18.01/", "/publik/kabupaten/18.01/")]
)
def test_the_public_page_shows_the_dashboards_figures(client, province_staff, public_world, dashboard_url, public_url):
    public = client.get(public_url).content.decode()
    client.force_login(province_staff)
    dashboard = client.get(dashboard_url).content.decode()

    shown = public_figures(public)
    expected = dashboard_figures(dashboard)
    assert {name: shown[name] for name in expected} == expected
    assert table(public) == table(dashboard) != {}


def test_the_figures_are_those_of_the_world(client, public_world: PublicWorld):
    shown = public_figures(client.get("/publik/").content.decode())

    # 8 units, 5 desa; one village live (a kelurahan), one blocked; six grants paid or later of Rp6.000.000,
    # one returned in part (Rp1.500.000) and one cancelled; the allocation is 8 x Rp6.000.000.
    assert (shown["units"], shown["desa"], shown["kelurahan"], shown["adopted_units"]) == ("8", "5", "3", "1")
    assert (shown["adopted_desa_pct"], shown["blocked_no_signal"]) == ("0,0 %", "1")
    assert shown["disbursed"] == "Rp24.000.000" and shown["returned"] == "Rp1.500.000"
    assert shown["net_disbursed"] == "Rp22.500.000" and shown["budget"] == "Rp48.000.000"


def test_both_follow_a_new_snapshot_alike(client, province_staff, public_world, ro_submitted):
    services.report_verify(report=ro_submitted(public_world.villages[4]), actor=province_staff)
    services.adoption_recompute()

    public = public_figures(client.get("/publik/").content.decode())
    client.force_login(province_staff)
    dashboard = dashboard_figures(client.get("/").content.decode())

    assert public["adopted_desa"] == dashboard["adopted_desa"] == "1"
