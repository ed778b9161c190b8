"""Signing in to the web page through the configured OpenID provider: authorization code with PKCE, the
provider being the tests' local one (tests/support/oidc_provider.py) on another 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import running_platform
from tests.browser.harness import CHROMIUM, Console, Platform, browser, context_for
from tests.conftest import BACKENDS
from tests.support.oidc_provider import OIDCProvider

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no /usr/bin/chromium: `apt-get install -y chromium` "
                                                     "(.ci/run does)"),
]
CLIENT_ID = "agyn-web"


@pytest.fixture(scope="module")
def idp() -> Iterator[OIDCProvider]:
    with OIDCProvider() as provider:
        yield provider


@pytest.fixture(scope="module", params=BACKENDS)
async def oidc_platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
                        idp: OIDCProvider) -> AsyncIterator[Platform]:
    async with running_platform(request.param, tmp_path_factory.mktemp(f"web-oidc-{request.param}"),
                                AGYN_OIDC__ISSUER=idp.issuer, AGYN_OIDC__AUDIENCE=idp.audience,
                                AGYN_OIDC__CLIENT_ID=CLIENT_ID) as platform:
        yield platform


def test_sign_in_with_the_provider_then_out(oidc_platform: Platform, idp: OIDCProvider) -> None:
    config = httpx.get(f"{oidc_platform.url}/web/config.json", timeout=30).json()
    assert config == {"oidc": {"issuer": idp.issuer, "client_id": CLIENT_ID, "scope": "openid profile email"}}
    idp.login_claims = {"sub": "dana-oidc", "preferred_username": "dana", "name": "Dana"}
    exchanges = idp.requests["/protocol/token"]
    console = Console()
    with browser() as chromium:
        page = context_for(chromium, oidc_platform.url, console, also=(idp.issuer,)).new_page()
        console.watch(page)
        page.goto(f"{oidc_platform.url}/")
        page.get_by_test_id("oidc-sign-in").click()
        # there and back: the page trades the code and its verifier for a token the platform accepts
        expect(page.get_by_role("heading", name="No organization yet")).to_be_visible(timeout=30_000)
        assert page.url == f"{oidc_platform.url}/"  # the code is not left in the address bar
        assert idp.requests["/protocol/token"] == exchanges + 1
        with oidc_platform.admin as admin:
            users = admin.get("/api/v1/users", params={"page_size": 100}).json()["items"]
        assert [u["username"] for u in users if u["oidc_subject"] == "dana-oidc"] == ["dana"]  # provisioned
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("API token")).to_be_visible()
        page.reload()  # signed out stays signed out
        expect(page.get_by_test_id("oidc-sign-in")).to_be_visible()
    assert console.errors == [] and console.outside == []
