"""Browser tests: Playwright for Python driving Debian's Chromium against pytest-django's live server.

Every test here is marked `browser`. Without /usr/bin/chromium they skip, unless REQUIRE_BROWSER=1
(CI), which turns a missing browser into a failure. Playwright's own browser downloads are never used:
the machines that run the portal cannot download them, so the system Chromium is launched instead.
"""

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from accounts.services import demo_users_ensure
from smartvillage import celery_app
from villages.services import regions_load

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"
DEMO_PASSWORD = "demo-lampung"  # seed_demo's published password for its demo accounts


def pytest_collection_modifyitems(config, items):
    """Mark this folder's tests `browser`; skip them without Chromium unless CI requires it."""
    # Hooks of a folder's conftest see every collected item, so pick this folder's own.
    browser_items = [item for item in items if HERE in item.path.parents]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    if not browser_items or CHROMIUM.exists():
        return
    reason = f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but the tests cannot use it: {reason}")
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the folder's tests, closed after them.

    Playwright's sync API keeps an asyncio loop running in the test thread, and Django refuses ORM
    calls from a thread with a running loop; the tests call the ORM between browser steps on purpose
    (the loop never runs Django code), so that check is lifted for exactly as long as Playwright runs.
    """
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class Browsing:
    """Pages on the live server, one browser context (own cookies, so one user) each.

    It records what the pages did beyond the portal itself; `problems()` lists it, and the `browsing`
    fixture asserts it empty when the test ends: the portal runs on a closed network, so every file
    must come from the portal, and no page may log an error to the console (a missing favicon, a
    script error, a failed request). A test that opens a page answering an error on purpose says
    so with `expect_error_status`.
    """

    def __init__(self, browser: Browser, base_url: str):
        self.browser, self.base_url = browser, base_url
        self.contexts: list[BrowserContext] = []
        self.foreign_requests: list[str] = []
        self.failed_static: list[str] = []
        self.script_errors: list[str] = []
        self.console_errors: list[str] = []
        self.visited: list[str] = []
        # Paths whose error status a test asked for: Chromium logs the status of the page itself.
        self.expected_errors: set[str] = set()

    def new_page(self, viewport: dict | None = None) -> Page:
        viewport = viewport or {"width": 1366, "height": 900}
        context = self.browser.new_context(base_url=self.base_url, viewport=viewport)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("request", self._request)
        page.on("response", self._response)
        page.on("pageerror", lambda error: self.script_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._console(page, message))
        page.on("framenavigated", lambda frame: frame == page.main_frame and self.visited.append(frame.url))
        return page

    def expect_error_status(self, path: str) -> None:
        """`path` answers an error status on purpose: Chromium's console line about it is not a problem."""
        self.expected_errors.add(self.base_url + path)

    def problems(self) -> list[str]:
        return (
            [f"loaded from elsewhere: {url}" for url in self.foreign_requests]
            + [f"missing static file: {line}" for line in self.failed_static]
            + [f"script error: {line}" for line in self.script_errors]
            + [f"console error: {line}" for line in self.console_errors]
        )

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def _request(self, request) -> None:
        if not request.url.startswith((self.base_url, "data:", "blob:", "about:")):
            self.foreign_requests.append(request.url)

    def _response(self, response) -> None:
        if "/static/" in response.url and response.status >= 400:
            self.failed_static.append(f"{response.status} {response.url}")

    def _console(self, page: Page, message) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if where in self.expected_errors and "Failed to load resource" in message.text:
            return
        self.console_errors.append(f"{page.url}: {message.text} ({where})")


@pytest.fixture
def browsing(browser, live_server) -> Iterator[Browsing]:
    """Pages on the live server; when the test ends, none of them may have logged an error to the console
    or loaded anything from elsewhere (checked after the test's own assertions)."""
    browsing = Browsing(browser, live_server.url)
    yield browsing
    browsing.close()
    assert browsing.problems() == [], f"pages visited: {browsing.visited}"


@pytest.fixture
def log_in():
    def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
        page.goto("/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form:has(input[name=password]) button[type=submit]")
        assert "/login/" not in page.url, f"{username} could not log in"

    return log_in


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Run tasks in the live server's thread: CI has a real broker but no worker for these tests."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def lampung(transactional_db) -> None:
    """The bundled Lampung registry and the demo accounts, without the demo rollout and grants."""
    regions_load()
    demo_users_ensure(password=DEMO_PASSWORD)


@pytest.fixture
def demo(transactional_db) -> None:
    """The whole embedded-mode demo (registry, accounts, grants, rollout at the end of 2023): ~7 s."""
    regions_load()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
