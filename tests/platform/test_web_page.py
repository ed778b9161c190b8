"""What `agyn serve` serves for the web chat page, without a browser: the page, its assets' caching and
compression, and the sign-in configuration it reads first."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agyn.app import create_app
from agyn.settings import Settings
from agyn.web import endpoints
from agyn.web.bundle import BUILD_COMMAND
from tests.browser.harness import ensure_bundle


def test_the_page_and_its_assets(tmp_path: Path) -> None:
    ensure_bundle()
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-cache"
        assets = re.findall(r'(?:src|href)="(/web/assets/main-[A-Z0-9]+\.(?:js|css))"', page.text)
        assert len(assets) == 2, page.text
        for asset in assets:
            served = client.get(asset, headers={"Accept-Encoding": "gzip"})
            assert served.status_code == 200
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert served.headers["content-encoding"] == "gzip"
        assert client.get("/web/assets/nothing.js").status_code == 404


@pytest.mark.parametrize(("oidc", "expected"), [
    ({}, None),
    ({"issuer": "http://127.0.0.1:9"}, None),  # a provider, but no client for the page: tokens only
    ({"issuer": "http://127.0.0.1:9", "client_id": "web"},
     {"issuer": "http://127.0.0.1:9", "client_id": "web", "scope": "openid profile email"}),
])
def test_the_sign_in_configuration(tmp_path: Path, oidc: dict[str, str], expected: object) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path, oidc=oidc))) as client:  # type: ignore[arg-type]
        assert client.get("/web/config.json").json() == {"oidc": expected}


def test_an_installation_without_the_bundle_says_how_to_build_it(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoints, "STATIC", tmp_path / "no-bundle")  # where an installation keeps none
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        page = client.get("/")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert "has not been built" in page.text and escape(BUILD_COMMAND) in page.text
        assert client.get("/healthz").status_code == 200  # the API is served all the same
