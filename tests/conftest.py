"""Shared fixtures: the platform app on SQLite (always) and PostgreSQL (when configured).

Set `AGYN_TEST_POSTGRES_URL` (a server URL, e.g. `postgresql://root@127.0.0.1:5432/postgres`) to
run every database-backed test on PostgreSQL as well; the suite creates and drops its own database.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from agyn import migrations
from agyn.app import create_app
from agyn.kit.clock import SYSTEM_CLOCK, Clock
from agyn.kit.db import Database
from agyn.models import metadata
from agyn.settings import Settings, normalise_database_url

# the Terraform plugin's fixtures (one platform, the provider mirror, `terraform` workspaces) serve
# every suite that runs Terraform: the provider's, the CDK's and the proxy's
pytest_plugins = ["tests.terraform.plugin"]

POSTGRES_URL = os.environ.get("AGYN_TEST_POSTGRES_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--terraform", action="append", choices=("1.15", "1.0"),
                     help="run the Terraform suite on this Terraform build only (repeatable; default: every "
                          "installed build, see tests/terraform/plugin.py)")


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("agyn")


async def _create_postgres_database(server_url: str) -> tuple[str, str]:
    """A fresh database on the server; returns (its SQLAlchemy URL, its name)."""
    name = f"agyn_test_{uuid.uuid4().hex[:10]}"
    plain = server_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(plain)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, _ = plain.rpartition("/")
    return normalise_database_url(f"{base}/{name}"), name


async def _drop_postgres_database(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@asynccontextmanager
async def scratch_postgres(upgrade_env: Mapping[str, str] | None = None, data_dir: Path | None = None, *,
                           server_url: str | None = None) -> AsyncIterator[str]:
    """A fresh database on the test server (`server_url`, default AGYN_TEST_POSTGRES_URL), dropped with whatever
    is still connected when the block ends; its URL. With `upgrade_env` and `data_dir`, brought to the schema
    first by `agyn db upgrade --data-dir data_dir` run in that environment with AGYN_DATABASE_URL set."""
    server = server_url or POSTGRES_URL
    assert server, "AGYN_TEST_POSTGRES_URL is not set"
    url, name = await _create_postgres_database(server)
    try:
        if upgrade_env is not None:
            assert data_dir is not None, "name the data dir `agyn db upgrade` runs with"
            argv = [str(Path(sys.executable).with_name("agyn")), "db", "upgrade", "--data-dir", str(data_dir)]
            upgraded = await asyncio.to_thread(subprocess.run, argv, env={**upgrade_env, "AGYN_DATABASE_URL": url},
                                               capture_output=True, text=True, timeout=120, check=False)
            assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
        yield url
    finally:
        await _drop_postgres_database(server, name)


@asynccontextmanager
async def database_env(backend: str, env: Mapping[str, str], data_dir: Path) -> AsyncIterator[dict[str, str]]:
    """`env` for the platform's processes on this backend: as it is on SQLite (the data dir's own file); with a
    scratch PostgreSQL database, brought to the schema, on PostgreSQL."""
    if backend == "sqlite":
        yield dict(env)
        return
    async with scratch_postgres(env, data_dir) as url:
        yield {**env, "AGYN_DATABASE_URL": url}


@pytest_asyncio.fixture(scope="session", params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, session_tmp: Path) -> AsyncIterator[str]:
    """A migrated database per backend, shared by the session and emptied before each test."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{session_tmp / 'test.db'}"
        database = Database(url)
        await migrations.upgrade(database)
        await database.dispose()
        yield url
        return
    async with scratch_postgres() as url:
        database = Database(url)
        await migrations.upgrade(database)
        await database.dispose()
        yield url


async def empty_database(url: str) -> None:
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            tables = [t.name for t in metadata.sorted_tables]
            if database.is_sqlite:
                for table in reversed(tables):
                    await connection.execute(text(f'DELETE FROM "{table}"'))
            else:
                await connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    finally:
        await database.dispose()


@dataclass
class Api:
    """An in-process platform and an HTTP client for it, with helpers to make callers."""

    client: httpx.AsyncClient
    admin_token: str
    settings: Settings
    app: Any
    _counter: list[int] = field(default_factory=lambda: [0])

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth(self.admin_token)

    async def user(self, username: str | None = None, *, cluster_role: str = "none") -> User:
        """A new user with an API token, created by the cluster admin."""
        self._counter[0] += 1
        username = username or f"user{self._counter[0]}"
        response = await self.client.post("/api/v1/users", headers=self.admin, json={
            "oidc_subject": f"test|{username}", "username": username, "cluster_role": cluster_role})
        assert response.status_code == 201, response.text
        user_id = response.json()["id"]
        response = await self.client.post(f"/api/v1/users/{user_id}/api-tokens", headers=self.admin,
                                          json={"name": "test"})
        assert response.status_code == 201, response.text
        return User(id=user_id, username=username, token=response.json()["token"])

    async def organization(self, owner: User, name: str | None = None) -> dict[str, Any]:
        self._counter[0] += 1
        response = await self.client.post("/api/v1/organizations", headers=self.auth(owner.token),
                                          json={"name": name or f"org-{self._counter[0]}"})
        assert response.status_code == 201, response.text
        return response.json()

    async def add_member(self, organization_id: str, user: User, role: str = "member") -> dict[str, Any]:
        """Make `user` an active member at once (the cluster admin's grant)."""
        response = await self.client.post("/api/v1/memberships", headers=self.admin, json={
            "organization_id": organization_id, "identity_id": user.id, "role": role})
        assert response.status_code == 201, response.text
        return response.json()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    # no background orchestration unless a test asks for it (tests/orchestrator, tests/runners)
    overrides.setdefault("orchestrator", {"enabled": False})
    return Settings(data_dir=data_dir, database_url=database_url, log_format="text", **overrides)


@asynccontextmanager
async def running_api(
    database_url: str, data_dir: Path, *, clock: Clock = SYSTEM_CLOCK, **overrides: Any
) -> AsyncIterator[Api]:
    """A freshly bootstrapped in-process platform on an emptied database, with extra settings."""
    await empty_database(database_url)
    async with serving(make_settings(data_dir, database_url, **overrides), clock=clock) as api:
        yield api


@asynccontextmanager
async def serving(settings: Settings, *, clock: Clock = SYSTEM_CLOCK) -> AsyncIterator[Api]:
    """The in-process platform on these settings as they are (a restart keeps the data)."""
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://agyn.test") as client:
            token = settings.admin_token_path.read_text().strip()
            yield Api(client=client, admin_token=token, settings=settings, app=app)


@pytest_asyncio.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """A freshly bootstrapped platform on an empty database."""
    async with running_api(database_url, tmp_path / "data") as api:
        yield api


@pytest_asyncio.fixture(scope="module")
async def module_api(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Api]:
    """One platform for a whole module, for table-driven suites that build their world once. A module
    that uses it must not also use `api`, which empties the database under it."""
    async with running_api(database_url, tmp_path_factory.mktemp("data")) as api:
        yield api


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and stable code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code, body
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body
