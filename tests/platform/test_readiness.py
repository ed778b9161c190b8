"""/readyz reflects the database and, when configured, the Redis broker."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import running_api


async def _readyz(database_url: str, data_dir: Path, redis_url: str) -> httpx.Response:
    async with running_api(database_url, data_dir, redis_url=redis_url) as api:
        return await api.client.get("/readyz")


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
