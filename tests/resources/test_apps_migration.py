"""Migration 0005: an installed app's stored `member` tuple becomes `installed_app` (least privilege),
and back on downgrade; a user's membership is never touched."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from alembic import command
from sqlalchemy import select
from sqlalchemy.engine import Connection

from agyn import migrations
from agyn.apps.models import App, AppInstallation
from agyn.authorization.models import AuthorizationTuple
from agyn.identity.models import Identity
from agyn.kit.db import Database
from agyn.organizations.models import Organization
from tests.conftest import BACKENDS, scratch_postgres


@pytest_asyncio.fixture(params=BACKENDS)
async def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'migrating.db'}")
        yield database
        await database.dispose()
        return
    async with scratch_postgres() as url:
        database = Database(url)
        try:
            yield database
        finally:
            await database.dispose()


async def tuples(database: Database) -> set[tuple[str, str, str]]:
    async with database.transaction() as session:
        rows = await session.execute(select(AuthorizationTuple.user, AuthorizationTuple.relation,
                                            AuthorizationTuple.object))
        return {(r.user, r.relation, r.object) for r in rows}


async def downgrade(database: Database, revision: str) -> None:
    def run(connection: Connection) -> None:
        command.downgrade(migrations.alembic_config(connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def test_app_member_tuples_become_installed_app(fresh_database: Database) -> None:
    database = fresh_database
    await migrations.upgrade(database, "0004")
    organization_id, app_id, user_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    org, app, user = f"organization:{organization_id}", f"identity:{app_id}", f"identity:{user_id}"
    async with database.transaction() as session:
        session.add_all([Identity(id=app_id, type="app"), Identity(id=user_id, type="user"),
                         Organization(id=organization_id, name="acme", version=1)])
        await session.flush()
        session.add(App(id=app_id, organization_id=organization_id, slug="telegram", name="Telegram",
                        visibility="internal", permissions=["thread:create"], version=1))
        await session.flush()
        session.add(AppInstallation(id=uuid.uuid4(), app_id=app_id, organization_id=organization_id,
                                    slug="telegram", configuration={}, version=1))
        session.add_all([AuthorizationTuple(user=u, relation=r, object=org)
                         for u, r in ((app, "member"), (app, "thread_create"), (user, "member"))])
    await migrations.upgrade(database)
    assert await tuples(database) == {(app, "installed_app", org), (app, "thread_create", org),
                                      (user, "member", org)}
    await downgrade(database, "0004")
    assert await tuples(database) == {(app, "member", org), (app, "thread_create", org), (user, "member", org)}
