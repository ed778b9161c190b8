"""/readyz reflects the database and, when configured, the Redis broker."""

from __future__ import annotations

from pathlib import Path

import httpx

from agyn.app import create_app
from tests.conftest import empty_database, make_settings


async def _readyz(database_url: str, data_dir: Path, redis_url: str) -> httpx.Response:
    await empty_database(database_url)
    app = create_app(make_settings(data_dir, database_url, redis_url=redis_url))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return await client.get("/readyz")


async def test_ready_with_a_reachable_redis(database_url: str, tmp_path: Path) -> None:
    response = await _readyz(database_url, tmp_path, "redis://127.0.0.1:6379/0")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


async def test_not_ready_when_redis_is_unreachable(database_url: str, tmp_path: Path) -> None:
    response = await _readyz(database_url, tmp_path, "redis://127.0.0.1:1/0")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["checks"]["broker"].startswith("unavailable")
    assert response.json()["checks"]["database"] == "ok"
