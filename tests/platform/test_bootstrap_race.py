"""Two replicas starting at once on an empty PostgreSQL database: one bootstraps, the other starts
on what the first made (no duplicate admin, no failed start, no token file that names a token that
does not exist)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from agyn.app import create_app
from agyn.kit.db import Database
from agyn.users.models import User
from tests.conftest import empty_database, make_settings


async def test_two_replicas_bootstrap_once(database_url: str, tmp_path: Path) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("one SQLite file is served by one process")
    for round_ in range(5):
        await empty_database(database_url)
        settings = [make_settings(tmp_path / f"r{round_}-{replica}", database_url) for replica in range(2)]
        apps = [create_app(each) for each in settings]
        async with AsyncExitStack() as stack:
            await asyncio.gather(*(stack.enter_async_context(app.router.lifespan_context(app)) for app in apps))
            written = [each.admin_token_path for each in settings if each.admin_token_path.exists()]
            assert len(written) == 1, f"round {round_}: token files {written}"
            database = Database(database_url)
            try:
                async with database.transaction() as session:
                    admins = await session.scalar(select(func.count()).select_from(User)
                                                  .where(User.username == "admin"))
            finally:
                await database.dispose()
            assert admins == 1
            token = written[0].read_text().strip()
            for app in apps:
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                             base_url="http://agyn.test") as client:
                    response = await client.get("/me", headers={"Authorization": f"Bearer {token}"})
                    assert response.status_code == 200, response.text
