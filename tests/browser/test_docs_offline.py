"""`/docs` and `/redoc` render with no internet: Debian's chromium, driven by Playwright, loads them from a
running platform while every request that leaves 127.0.0.1 is refused, and a screenshot is taken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import Serve

CHROMIUM = Path("/usr/bin/chromium")
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: `apt-get install -y chromium` "
                                                     "(.ci/run does)"),
]


@pytest.fixture(scope="module")
def platform_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("docs")
    serve = Serve(workdir / "data", cwd=workdir)
    try:
        serve.wait_healthy()
        yield serve.url
    finally:
        serve.stop()


def open_offline(url: str, path: str, screenshot: Path, visible: str) -> list[str]:
    """Load `path` with only 127.0.0.1 reachable; wait for `visible`; the URLs the page tried elsewhere."""
    from playwright.sync_api import Route, sync_playwright

    outside: list[str] = []

    def route(handler: Route) -> None:
        if handler.request.url.startswith(url):
            handler.continue_()
        else:
            outside.append(handler.request.url)
            handler.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            page.goto(f"{url}{path}")
            page.locator(visible).first.wait_for(state="visible", timeout=30_000)
            page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    return outside


def test_swagger_ui_lists_the_operations_offline(platform_url: str, tmp_path: Path) -> None:
    screenshot = tmp_path / "docs.png"
    outside = open_offline(platform_url, "/docs", screenshot,
                           '.opblock-summary-path[data-path="/api/v1/organizations"]')
    assert outside == [], f"/docs tried to load {outside}"
    assert screenshot.stat().st_size > 10_000  # a rendered page, not a blank one


def test_redoc_renders_offline(platform_url: str, tmp_path: Path) -> None:
    screenshot = tmp_path / "redoc.png"
    outside = open_offline(platform_url, "/redoc", screenshot, 'h2:has-text("Create an organization")')
    # ReDoc's own "API docs by Redocly" logo is the one exception: built into its script, and hidden when it
    # fails to load
    assert [u for u in outside if u != REDOCLY_LOGO] == [], f"/redoc tried to load {outside}"
    assert screenshot.stat().st_size > 10_000
