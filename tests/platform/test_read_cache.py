"""The read cache behind `GET /{id}` of the registry collections (agyn.kit.readcache): writes are read
back at once on this replica and, through Redis, on the others; anything else within the cache's
lifetime; access is decided on every read; a page costs a fixed number of statements."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from agyn.agents.models import Agent
from agyn.kit.db import Database
from agyn.kit.platform import Platform
from tests.conftest import Api, empty_database, make_settings, running_api, serving
from tests.notifications.support import REDIS_URL
from tests.resources.agents_support import AGENTS, make_org
from tests.support.clock import FakeClock
from tests.support.statements import Statements

WAIT = 10.0  # only "it arrived" is asserted, never how fast


def platform_of(api: Api) -> Platform:
    platform: Platform = api.app.state.platform
    return platform


async def read(api: Api, agent_id: str, headers: dict[str, str]) -> dict[str, Any]:
    response = await api.client.get(f"{AGENTS}/{agent_id}", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == response.json()["etag"]
    body: dict[str, Any] = response.json()
    return body


def cached(api: Api, agent_id: str) -> bool:
    return platform_of(api).read_cache.get("agents", uuid.UUID(agent_id)) is not None


async def test_writes_through_the_api_are_read_back_at_once(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent(name="before")
    first = await read(api, agent["id"], org.owner.headers)
    assert cached(api, agent["id"])

    changed = await api.client.patch(f"{AGENTS}/{agent['id']}", headers=org.owner.headers, json={"name": "after"})
    assert changed.status_code == 200, changed.text
    second = await read(api, agent["id"], org.owner.headers)
    assert second["name"] == "after" and second["etag"] != first["etag"]

    # a bulk UPDATE through any session of the platform (e.g. `touch_agent`) counts as a write too
    await read(api, agent["id"], org.owner.headers)
    async with platform_of(api).database.transaction() as session:
        await session.execute(update(Agent).where(Agent.id == uuid.UUID(agent["id"])).values(name="bulk"))
    assert (await read(api, agent["id"], org.owner.headers))["name"] == "bulk"

    deleted = await api.client.delete(f"{AGENTS}/{agent['id']}", headers=org.owner.headers)
    assert deleted.status_code == 204
    assert (await api.client.get(f"{AGENTS}/{agent['id']}", headers=org.owner.headers)).status_code == 404


async def test_a_cached_row_is_still_authorized_on_every_read(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent(configuration={"system_prompt": "secret plans"})
    await read(api, agent["id"], org.owner.headers)
    assert cached(api, agent["id"])

    stranger = await api.user("stranger")
    assert (await api.client.get(f"{AGENTS}/{agent['id']}", headers=stranger.headers)).status_code == 404
    member = await org.member("member")  # sees the agent's metadata, not its configuration
    body = await read(api, agent["id"], member.headers)
    assert body["configuration"] is None
    assert (await read(api, agent["id"], org.owner.headers))["configuration"] == {"system_prompt": "secret plans"}


async def test_a_write_elsewhere_is_seen_within_the_cache_lifetime(database_url: str, tmp_path: Path) -> None:
    """A write the platform cannot see (another process, no Redis) is served stale for at most
    `token_cache_seconds`."""
    clock = FakeClock()
    async with running_api(database_url, tmp_path / "data", clock=clock, token_cache_seconds=5) as api:
        org = await make_org(api)
        agent = await org.agent(name="before")
        await read(api, agent["id"], org.owner.headers)
        elsewhere = Database(platform_of(api).database.url)
        try:
            async with elsewhere.transaction() as session:
                await session.execute(update(Agent).where(Agent.id == uuid.UUID(agent["id"])).values(
                    name="elsewhere", version=Agent.version + 1))
        finally:
            await elsewhere.dispose()
        clock.advance(4.9)
        assert (await read(api, agent["id"], org.owner.headers))["name"] == "before"  # within the window
        clock.advance(0.2)
        assert (await read(api, agent["id"], org.owner.headers))["name"] == "elsewhere"  # past it


async def test_a_read_that_began_before_a_write_does_not_cache_the_older_row(api: Api) -> None:
    org = await make_org(api)
    agent = await org.agent(name="before")
    agent_id = uuid.UUID(agent["id"])
    platform = platform_of(api)
    cache = platform.read_cache
    async with platform.database.sessionmaker() as reader:
        stale = await reader.get(Agent, agent_id)  # its transaction begins here
        async with platform.database.transaction() as writer:
            await writer.execute(update(Agent).where(Agent.id == agent_id).values(name="after"))
        cache.put(reader, "agents", agent_id, stale)
        assert cache.get("agents", agent_id) is None
    async with platform.database.sessionmaker() as fresh:  # the control: a read after the write is kept
        current = await fresh.get(Agent, agent_id)
        cache.put(fresh, "agents", agent_id, current)
        entry = cache.get("agents", agent_id)
        assert entry is not None and entry.name == "after"


@pytest.mark.skipif(REDIS_URL is None, reason="set AGYN_TEST_REDIS_URL to run the Redis tests")
async def test_a_write_on_one_replica_is_read_back_on_another(database_url: str, tmp_path: Path) -> None:
    """Two replicas on one database and Redis; the reader's clock stands still, so only the other
    replica's message can make it drop its copy. (The reader starts after the agent exists: the
    embedded authorization engine, unlike OpenFGA, learns of tuples only at start.)"""
    await empty_database(database_url)
    overrides: dict[str, Any] = {"redis_url": REDIS_URL, "token_cache_seconds": 60,
                                 "notifications": {"redis_channel": f"test-{uuid.uuid4().hex}"}}
    settings = make_settings(tmp_path / "data", database_url, **overrides)
    async with serving(settings) as writer:
        org = await make_org(writer)
        agent = await org.agent(name="before")
        async with serving(settings, clock=FakeClock()) as reader:
            await assert_write_reaches_reader(writer, reader, org.owner.headers, agent["id"])


async def assert_write_reaches_reader(writer: Api, reader: Api, headers: dict[str, str], agent_id: str) -> None:
    assert (await read(reader, agent_id, headers))["name"] == "before"
    assert cached(reader, agent_id)
    changed = await writer.client.patch(f"{AGENTS}/{agent_id}", headers=headers, json={"name": "after"})
    assert changed.status_code == 200, changed.text
    async with asyncio.timeout(WAIT):
        while (await read(reader, agent_id, headers))["name"] != "after":
            await asyncio.sleep(0.02)


async def test_a_page_of_agents_costs_a_fixed_number_of_statements(api: Api) -> None:
    """One statement for the page's ids (filtered by what the caller may see), one for the rows the
    read cache does not hold: the same for 10 items or 100."""
    org = await make_org(api)
    for number in range(100):
        await org.agent(name=f"agent-{number}")
    member = await org.member("member")  # not an admin: the page is filtered by authorization
    await api.client.get(AGENTS, headers=member.headers)  # the token is checked (and cached) once
    cold, warm = {}, {}
    for size in (10, 100):
        platform_of(api).read_cache.clear()
        for counts in (cold, warm):
            statements = Statements(platform_of(api).database)
            try:
                response = await api.client.get(AGENTS, headers=member.headers, params={"page_size": size})
            finally:
                statements.close()
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) == size
            counts[size] = statements.count
    assert cold == {10: 2, 100: 2} and warm == {10: 1, 100: 1}, (cold, warm)


class Reading:
    """A session whose transaction began at generation `begun_at`."""

    def __init__(self, begun_at: int) -> None:
        self.info = {"read_cache.generation": begun_at}


def test_messages_from_other_replicas_drop_rows_and_bad_ones_clear_everything() -> None:
    from agyn.kit.readcache import ReadCache

    cache = ReadCache(5.0, clock=FakeClock())
    cache.track("agents")
    kept, dropped = uuid.uuid4(), uuid.uuid4()
    for object_id in (kept, dropped):
        cache.put(Reading(cache.generation), "agents", object_id, Agent(id=object_id, version=1))
    cache.receive(f'{{"origin": "{cache.origin}", "rows": [["agents", "{dropped}"]], "tables": []}}')
    assert cache.get("agents", dropped) is not None  # its own message: already applied at commit
    cache.receive(f'{{"origin": "other", "rows": [["agents", "{dropped}"]], "tables": ["models"]}}')
    assert cache.get("agents", dropped) is None and cache.get("agents", kept) is not None
    cache.receive(b"not json")
    assert cache.get("agents", kept) is None


def test_a_zero_lifetime_caches_nothing() -> None:
    from agyn.kit.readcache import ReadCache

    cache = ReadCache(0.0, clock=FakeClock())
    cache.track("agents")
    object_id = uuid.uuid4()
    cache.put(Reading(cache.generation), "agents", object_id, Agent(id=object_id, version=1))
    assert cache.get("agents", object_id) is None
