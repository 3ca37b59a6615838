"""The public pages in a real browser, without an account: the map and the trend draw, the drill-down reaches a
village, the English switch works, on a phone and a desktop, with no console error and nothing from elsewhere."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_flows import PHONE, REGENCIES_AND_CITIES, map_figures

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_a_visitor_without_an_account_drills_down_from_the_map_to_a_village(demo, browsing, artifacts, viewport):
    page = browsing.new_page(viewport)

    page.goto("/publik/")
    expect(page.locator("#regency-map path.leaflet-interactive")).to_have_count(REGENCIES_AND_CITIES)
    expect(page.locator("#trend-chart")).to_be_visible()
    assert len(map_figures(page)) == REGENCIES_AND_CITIES
    page.screenshot(path=str(artifacts / f"public-{'phone' if viewport else 'desktop'}.png"), full_page=True)

    page.locator('#public-table a[href="/publik/kabupaten/18.13/"]').click()
    expect(page).to_have_url(f"{browsing.base_url}/publik/kabupaten/18.13/")
    page.locator("#public-table tbody tr a").first.click()
    expect(page.locator("#public-villages")).to_be_visible()
    page.locator("#public-villages tbody tr a").first.click()
    expect(page.locator("#public-village")).to_be_visible()
    expect(page.locator('#public-village [data-col="pillar1"]')).not_to_be_empty()

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#public-village")).to_contain_text("Pillar 1")
