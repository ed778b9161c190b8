"""Threads as a metering producer: one COUNT per thread and per message, after commit only, and a
replay never counts twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from agyn.kit.principal import IdentityType, Principal
from agyn.metering.service import MeteringService, record_usage
from agyn.settings import MeteringSettings
from agyn.threads import usage
from agyn.threads.models import Message
from tests.conftest import Api, User, assert_problem, running_api
from tests.threads.support import THREADS, Team, make_team

USAGE = "/api/v1/usage"


@pytest_asyncio.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """A platform whose metering writer writes only when the test flushes it."""
    async with running_api(database_url, tmp_path / "data", threads={"max_body_chars": 20},
                           metering=MeteringSettings(flush_interval=3600, batch_size=1000)) as api:
        yield api


async def counts(api: Api, team: Team, reader: User, group_by: str, **filters: str) -> dict[str, float]:
    """The organization's COUNT usage per value of `group_by`, once every handed-over record is written."""
    assert await api.app.state.platform.get(MeteringService).writer.flush()
    response = await api.client.get(USAGE, headers=reader.headers, params={
        "organization_id": team.org.id, "unit": "COUNT", "group_by": group_by, **filters})
    assert response.status_code == 200, response.text
    return {bucket["group"]: bucket["value"] for bucket in response.json()["buckets"]}


async def test_each_thread_and_message_counts_once_with_its_labels(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    other = await team.thread(team.carol, team.bob.id)
    first = await team.sent(team.bob, thread["id"], "one")
    await team.sent(team.carol, thread["id"], "two")
    await team.sent(team.bob, other["id"], "three")

    assert await counts(api, team, team.carol, "kind") == {"thread": 2, "message": 3}
    assert await counts(api, team, team.carol, "identity_id", kind="message") == {team.bob.id: 2, team.carol.id: 1}
    assert await counts(api, team, team.carol, "identity_type") == {"user": 5}
    assert await counts(api, team, team.carol, "thread_id", kind="message") == {thread["id"]: 2, other["id"]: 1}
    assert await counts(api, team, team.carol, "resource_id", message_id=first["id"]) == {first["id"]: 1}
    assert await counts(api, team, team.carol, "resource") == {"thread": 2, "message": 3}


async def test_a_failed_write_counts_nothing(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    assert_problem(await team.send(team.bob, thread["id"], "x" * 21), 413, "resource_exhausted")
    assert_problem(await team.send(team.outsider, thread["id"], "hi"), 404, "not_found")
    # a conversation whose first message is refused rolls back the thread it created, and its count
    refused = await api.client.post("/api/v1/conversations", headers=team.bob.headers, json={
        "organization_id": team.org.id, "participants": [team.carol.id], "message": "x" * 21})
    assert_problem(refused, 413, "resource_exhausted")
    archived = await api.client.post(f"{THREADS}/{thread['id']}/archive", headers=team.bob.headers)
    assert archived.status_code == 200, archived.text
    assert_problem(await team.send(team.bob, thread["id"], "late"), 409, "failed_precondition")
    assert await counts(api, team, team.bob, "kind") == {"thread": 1}


async def test_a_replay_does_not_double(api: Api) -> None:
    team = await make_team(api)
    thread = await team.thread(team.bob, team.carol.id)
    url, headers = f"{THREADS}/{thread['id']}/messages", {**team.bob.headers, "Idempotency-Key": "send-1"}
    sent: dict[str, Any] = (await api.client.post(url, headers=headers, json={"body": "once"})).json()
    replayed = await api.client.post(url, headers=headers, json={"body": "once"})
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert await counts(api, team, team.bob, "kind") == {"thread": 1, "message": 1}

    # the producer recording the same message again (a retried hook) replaces its record
    platform = api.app.state.platform
    async with platform.database.transaction() as session:
        message = await session.get(Message, uuid.UUID(sent["id"]))
        assert message is not None
    record = usage.message_sent(message, uuid.UUID(team.org.id), Principal(message.sender_id, IdentityType.user))
    record_usage(platform, record, record)
    assert await counts(api, team, team.bob, "kind") == {"thread": 1, "message": 1}
