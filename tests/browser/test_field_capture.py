"""Field capture with no signal (issue 13), in Chromium at a phone's size, against a portal that is really
stopped and started again.

Playwright's offline switch does not cover a service worker's own fetches, and the officer's problem is the
portal not answering at all: so the portal runs here in a subprocess (`manage.py runserver` on the test
database) that the test kills and starts again on the same port. While it is down, Chromium logs the queue's
failed attempts to send (connection refused) to the console: those lines, for the report endpoint only, are
expected (`offline_village`); any other console error still fails the test.
"""

import datetime
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.models import Session
from django.db import connection
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import User
from rollout.models import PillarStatus, ProgressReport, ReportPhoto, Signal
from tests.browser.conftest import DEMO_PASSWORD, Browsing
from villages.models import Village

OFFICER, OFFICER_REGENCY = "petugas.pesisirbarat", "18.13"
PHONE = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Portal:
    """The portal in a subprocess on a fixed port, on the test database: stop() is a dead server (connections
    refused), start() brings it back on the same address."""

    def __init__(self, media_root: Path, log: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.media_root, self.log = media_root, log
        self.process: subprocess.Popen | None = None

    def _environment(self) -> dict:
        database = connection.settings_dict
        url = (
            f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        )
        environment = {**os.environ, "DATABASE_URL": url, "DEBUG": "1", "MEDIA_ROOT": str(self.media_root)}
        # Tasks in-process, as in the embedded mode: no worker runs for these tests.
        for name in ("CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL", "DATABASE_REPLICA_URL"):
            environment.pop(name, None)
        return environment

    def start(self) -> None:
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
                cwd=settings.BASE_DIR,
                env=self._environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the portal did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None


@pytest.fixture
def portal(lampung, settings, tmp_path) -> Iterator[Portal]:
    # The tests hash passwords with MD5 (tests/conftest.py), which the portal's own settings do not read.
    settings.PASSWORD_HASHERS = [*settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    User.objects.filter(username=OFFICER).update(password=make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256"))
    portal = Portal(media_root=tmp_path / "media", log=tmp_path / "portal.log")
    portal.start()
    yield portal
    portal.stop()


@pytest.fixture
def field(browser, portal) -> Iterator[Browsing]:
    """Pages on the stoppable portal, which must log no console error: but Chromium's line about each answer
    of the report endpoint that is not a success (no answer while the portal is down, a refusal, the
    session gone), which the tests cause on purpose (`expect_error_status` of the village's endpoint)."""
    browsing = Browsing(browser, portal.url)
    yield browsing
    browsing.close()
    assert browsing.problems() == [], f"pages visited: {browsing.visited}"


def camera_photo() -> dict:
    """A phone camera's photo: 4000 x 3000 px JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 3000), (40, 140, 90)).save(buffer, "JPEG", quality=90)
    return {"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def log_in(page: Page, username: str = OFFICER) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/login/" not in page.url
    # The service worker is installed and keeps the officer's pages.
    expect(page.locator("html[data-offline-ready]")).to_have_count(1, timeout=30_000)


def fill_and_submit(page: Page, *, photo: bool = True, **choices) -> None:
    form = page.locator("form[data-report-form][data-ready]")
    expect(form).to_be_visible()
    page.select_option("#id_pillar1", choices.get("pillar1", PillarStatus.IN_PROGRESS))
    page.select_option("#id_signal", choices.get("signal", Signal.G2))
    page.select_option("#id_blocker", choices.get("blocker", ""))
    if choices.get("signal_sufficient"):
        page.check("#id_signal_sufficient")
    else:
        page.uncheck("#id_signal_sufficient")
    page.fill("#id_note", choices.get("note", "Dicatat tanpa sinyal"))
    if photo:
        page.set_input_files("[data-photos]", camera_photo())
        expect(page.locator("[data-photo-previews]")).to_have_attribute("data-count", "1")
    confirmation = page.locator("[data-confirmation]")
    before = confirmation.get_attribute("data-uuid")
    page.click("form[data-report-form] button[type=submit]")
    expect(confirmation).not_to_have_attribute("data-uuid", before or "none")
    expect(confirmation).to_be_visible()


def waiting(page: Page):
    return page.locator("nav [data-queue-count]")


def offline_village(field: Browsing) -> Village:
    """A desa of the officer's regency never opened online in the test: its form comes from the village list."""
    village = Village.objects.filter(regency__code=OFFICER_REGENCY, is_active=True).order_by("code").last()
    field.expect_error_status(f"/api/v1/rollout/{village.code}/reports/")
    return village


def test_three_reports_recorded_with_no_connection_reach_the_portal_once_it_is_back(portal, field, artifacts):
    village = offline_village(field)
    started = timezone.now()
    page = field.new_page(viewport=PHONE)
    log_in(page)
    page.screenshot(path=artifacts / "field-home.png", full_page=True)

    portal.stop()
    page.goto("/")  # from the device: the portal does not answer
    expect(page.locator("#worklist")).to_be_visible()
    page.locator("#villages summary", has_text=village.district.name).click()
    page.locator(f'#villages a[href="/rollout/villages/{village.code}/report/"]').click()
    expect(page.locator('[data-fill="village"]')).to_have_text(village.name)
    for number in range(3):
        fill_and_submit(page, note=f"Kunjungan {number + 1}")
    expect(waiting(page)).to_have_attribute("data-queue-count", "3")
    page.screenshot(path=artifacts / "field-form.png", full_page=True)
    page.goto("/rollout/queue/")
    expect(page.locator("[data-queue-list] [data-state=waiting]")).to_have_count(3)
    page.screenshot(path=artifacts / "field-queue.png", full_page=True)
    assert not ProgressReport.objects.filter(village=village).exists()

    portal.start()
    page.click("[data-send-now]")
    expect(waiting(page)).to_have_attribute("data-queue-count", "0", timeout=30_000)

    reports = list(ProgressReport.objects.filter(village=village).order_by("captured_at"))
    assert len(reports) == 3
    assert len({report.client_uuid for report in reports}) == 3
    assert [report.note for report in reports] == ["Kunjungan 1", "Kunjungan 2", "Kunjungan 3"]
    assert all(
        started - datetime.timedelta(minutes=1) <= report.captured_at <= report.submitted_at for report in reports
    )
    assert all(report.submitted_by.username == OFFICER for report in reports)
    photos = ReportPhoto.objects.filter(report__in=reports)
    assert photos.count() == 3
    assert {max(photo.width, photo.height) for photo in photos} == {1600}  # made smaller on the phone
    assert ProgressReport.objects.count() == 3


def test_a_refused_report_is_kept_with_its_reason_and_does_not_hold_the_others(portal, field):
    village = offline_village(field)
    page = field.new_page(viewport=PHONE)
    log_in(page)
    page.goto(f"/rollout/villages/{village.code}/report/")

    portal.stop()
    page.reload()
    fill_and_submit(page, photo=False, note="Pertama")
    # A village blocked by no signal cannot have sufficient signal: the portal refuses this one (400).
    fill_and_submit(page, photo=False, note="Salah", blocker="no_signal", signal_sufficient=True)
    fill_and_submit(page, photo=False, note="Ketiga")
    expect(waiting(page)).to_have_attribute("data-queue-count", "3")

    portal.start()
    page.click("[data-send-now]")
    expect(waiting(page)).to_have_attribute("data-queue-count", "0", timeout=30_000)

    refused = page.locator("[data-queue-list] [data-state=refused]")
    expect(refused).to_have_count(1)
    expect(refused.locator("[data-reason]")).to_contain_text("signal_sufficient")
    assert sorted(ProgressReport.objects.values_list("note", flat=True)) == ["Ketiga", "Pertama"]


def test_an_expired_session_keeps_the_reports_until_the_officer_logs_in_again(portal, field):
    village = offline_village(field)
    page = field.new_page(viewport=PHONE)
    log_in(page)
    page.goto(f"/rollout/villages/{village.code}/report/")

    portal.stop()
    page.reload()
    fill_and_submit(page, photo=False, note="Satu")
    fill_and_submit(page, photo=False, note="Dua")
    Session.objects.all().delete()  # the session ends while the officer is away

    portal.start()
    page.click("[data-send-now]")
    expect(page.locator("[data-queue-list] [data-state=login]")).to_have_count(2, timeout=30_000)
    expect(waiting(page)).to_have_attribute("data-queue-count", "2")  # nothing dropped
    assert not ProgressReport.objects.exists()

    log_in(page)  # the first page after the login sends them
    expect(page.locator("html[data-queue-flushed]")).to_have_count(1, timeout=30_000)
    expect(waiting(page)).to_have_attribute("data-queue-count", "0")
    assert sorted(ProgressReport.objects.values_list("note", flat=True)) == ["Dua", "Satu"]


def test_the_grid_marks_an_edited_row_and_counts_the_rows_to_send(portal, field, artifacts):
    page = field.new_page(viewport=PHONE)
    log_in(page)
    district = Village.objects.filter(regency__code=OFFICER_REGENCY).order_by("code").first().district
    page.goto(f"/rollout/districts/{district.code}/bulk/")
    counter = page.locator("[data-bulk-count]")
    expect(counter).to_have_attribute("data-bulk-count", "0")

    page.select_option("select[name='form-0-pillar1']", PillarStatus.LIVE)
    page.fill("input[name='form-1-blocker_note']", "Perangkat rusak")

    expect(page.locator("input[name='form-0-include']")).to_be_checked()
    expect(page.locator("input[name='form-1-include']")).to_be_checked()
    expect(counter).to_have_attribute("data-bulk-count", "2")
    # Every select shows its whole value (the table scrolls sideways instead), on a phone and on a desktop.
    assert page.evaluate(CUT_SELECTS) == []
    page.screenshot(path=artifacts / "field-grid.png", full_page=True)
    desktop = field.new_page(viewport={"width": 1366, "height": 900})
    log_in(desktop)
    desktop.goto(f"/rollout/districts/{district.code}/bulk/")
    assert desktop.evaluate(CUT_SELECTS) == []


# The grid's selects whose chosen text is wider than the room it has (text width by the select's own font).
CUT_SELECTS = """() => {
    const context = document.createElement("canvas").getContext("2d");
    return [...document.querySelectorAll("[data-bulk-grid] select")].filter((select) => {
        const style = getComputedStyle(select);
        context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return context.measureText(select.selectedOptions[0].text).width > room + 1;
    }).map((select) => `${select.name}: ${select.selectedOptions[0].text}`);
}"""


NAVBAR_ONE_LINE = """() => {
    const nav = document.querySelector("nav.navbar");
    const select = nav.querySelector("select[name=language]");
    const brand = nav.querySelector(".navbar-brand");
    return {
        height: nav.getBoundingClientRect().height,
        brandHeight: brand.getBoundingClientRect().height,
        languageCut: select.offsetParent !== null && select.scrollWidth > select.clientWidth + 1,
        menuTop: [...nav.querySelectorAll(".navbar-nav > .nav-item")].filter((item) => item.offsetParent)
            .map((item) => Math.round(item.getBoundingClientRect().top)),
    };
}"""


@pytest.mark.parametrize("username", ["admin", "staf", OFFICER])
def test_the_menu_fits_one_line_at_1366_px_and_a_phone(lampung, browsing, username):
    desktop = browsing.new_page(viewport={"width": 1366, "height": 900})
    log_in_live(desktop, username)
    for language in ("id", "en"):
        if desktop.locator("nav select[name=language]").input_value() != language:
            with desktop.expect_navigation():
                desktop.select_option("nav select[name=language]", language)
        layout = desktop.evaluate(NAVBAR_ONE_LINE)
        assert len(set(layout["menuTop"])) == 1, (language, layout)  # no wrapped menu
        assert layout["height"] < 70, (language, layout)
        assert not layout["languageCut"], (language, layout)

    phone = browsing.new_page(viewport=PHONE)
    log_in_live(phone, username)
    layout = phone.evaluate(NAVBAR_ONE_LINE)
    assert layout["height"] < 70, layout  # brand, the waiting count and the menu button on one line
    phone.click("nav .navbar-toggler")
    expect(phone.locator("nav select[name=language]")).to_be_visible()
    assert not phone.evaluate(NAVBAR_ONE_LINE)["languageCut"]


def log_in_live(page: Page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    assert "/login/" not in page.url
