"""The documentation pages load their scripts and styles from the platform itself, never from a CDN
(the browser test in tests/browser renders them offline)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Api


@pytest.mark.parametrize(("page", "assets"), [
    ("/docs", ["swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"]),
    ("/redoc", ["redoc.standalone.js", "favicon.png"]),
])
async def test_docs_pages_use_local_assets(api: Api, page: str, assets: list[str]) -> None:
    response = await api.client.get(page)
    assert response.status_code == 200
    urls = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', response.text) + re.findall(r"url: *'([^']+)'",
                                                                                       response.text)
    assert urls and not [u for u in urls if "://" in u], urls
    for name in assets:
        assert f"/docs/assets/{name}" in response.text
        asset = await api.client.get(f"/docs/assets/{name}")
        assert asset.status_code == 200 and len(asset.content) > 1000, name
