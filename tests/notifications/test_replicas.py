"""Several replicas share one Redis channel: a subscriber on any replica receives what any replica
published. The two-process test needs PostgreSQL and Redis (AGYN_TEST_POSTGRES_URL, AGYN_TEST_REDIS_URL)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as redis

from agyn.notifications.broker import RedisBroker
from agyn.notifications.envelope import Envelope
from agyn.notifications.hub import Hub
from tests.conftest import POSTGRES_URL, scratch_postgres
from tests.notifications.support import REDIS_URL, WAIT, ServeProcess, cli_env, sse

needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="set AGYN_TEST_REDIS_URL to run the Redis tests")


def envelope(n: int, room: str) -> Envelope:
    return Envelope(id=str(uuid.uuid4()), ts="2026-01-01T00:00:00Z", source="tests", event="message.created",
                    rooms=(room,), payload={"n": n})


@pytest_asyncio.fixture
async def redis_client() -> AsyncIterator[redis.Redis]:
    assert REDIS_URL is not None
    client = redis.from_url(REDIS_URL)
    try:
        yield client
    finally:
        await client.aclose()


@needs_redis
async def test_what_one_broker_publishes_reaches_every_brokers_hub(redis_client: redis.Redis) -> None:
    channel = f"agyn.test.{uuid.uuid4().hex}"
    hubs = [Hub(queue_size=100), Hub(queue_size=100)]
    brokers = [RedisBroker(redis_client, channel, hub) for hub in hubs]
    for broker in brokers:
        await broker.start()
    try:
        listeners = [hub.subscribe(["room:a"]) for hub in hubs]
        sent = [envelope(0, "room:a"), envelope(1, "room:b"), envelope(2, "room:a")]
        await brokers[0].publish(sent[0])
        await redis_client.publish(channel, b"not an envelope")  # ignored, and the listener carries on
        await brokers[1].publish(sent[1])
        await brokers[1].publish(sent[2])
        for listener in listeners:
            got = [await asyncio.wait_for(listener.get(), WAIT) for _ in range(2)]
            assert got == [sent[0], sent[2]]
            assert listener.get_nowait() is None
    finally:
        for broker in brokers:
            await broker.stop()


@pytest.fixture
def postgres_database() -> Any:
    """A fresh PostgreSQL database (its URL), dropped afterwards."""
    if POSTGRES_URL is None or REDIS_URL is None:
        pytest.skip("set AGYN_TEST_POSTGRES_URL and AGYN_TEST_REDIS_URL to run replicas on PostgreSQL and Redis")
    return POSTGRES_URL


async def test_what_one_agyn_serve_publishes_reaches_sse_subscribers_of_another(
        postgres_database: str, tmp_path: Path) -> None:
    """A message sent through one replica reaches the recipient's SSE stream on the other (and back);
    so does an agent's change."""
    assert REDIS_URL is not None
    env = cli_env(AGYN_REDIS_URL=REDIS_URL, AGYN_NOTIFICATIONS__REDIS_CHANNEL=f"agyn.test.{uuid.uuid4().hex}")
    data_dir = tmp_path / "data"
    async with scratch_postgres(env, data_dir, server_url=postgres_database) as url:
        await _across_replicas({**env, "AGYN_DATABASE_URL": url}, data_dir)


async def _across_replicas(env: dict[str, str], data_dir: Path) -> None:
    replicas: list[ServeProcess] = []
    try:
        replicas.append(ServeProcess(data_dir, env, "a"))
        await replicas[0].healthy()
        token = (data_dir / "admin-token").read_text().strip()
        async with httpx.AsyncClient(base_url=replicas[0].url, headers=bearer(token), timeout=WAIT) as a:
            agent_id, organization_id = await make_agent(a)
            alice, bob = await make_user(a, "alice", organization_id), await make_user(a, "bob", organization_id)
            created = await a.post("/api/v1/conversations", headers=bearer(alice[1]),
                                   json={"organization_id": organization_id, "participants": [bob[0]]})
            assert created.status_code == 201, created.text
            conversation_id = created.json()["id"]
        # the second replica starts once all this exists: the embedded authorization index is loaded at start
        # (replicas that change who may do what while running share an OpenFGA server instead)
        replicas.append(ServeProcess(data_dir, env, "b"))
        await replicas[1].healthy()
        async with httpx.AsyncClient(base_url=replicas[0].url, timeout=WAIT) as a, \
                httpx.AsyncClient(base_url=replicas[1].url, timeout=WAIT) as b:
            for (sender, writer), (recipient, reader) in (((alice, a), (bob, b)), ((bob, b), (alice, a))):
                async with sse(reader, recipient[1], "thread_participant:me") as stream:
                    sent = await writer.post(f"/api/v1/conversations/{conversation_id}/messages",
                                             headers=bearer(sender[1]), json={"body": "across replicas"})
                    assert sent.status_code == 201, sent.text
                    message = await stream.next()
                    assert message.event == "message.created"
                    assert message.envelope["payload"]["message_id"] == sent.json()["id"]
                    assert message.envelope["rooms"] == [f"thread_participant:{recipient[0]}"]
            for writer, reader in ((a, b), (b, a)):
                async with sse(reader, token, f"agent:{agent_id}") as stream:
                    response = await writer.patch(f"/api/v1/agents/{agent_id}", headers=bearer(token),
                                                  json={"role": f"role-{uuid.uuid4().hex[:6]}"})
                    assert response.status_code == 200, response.text
                    message = await stream.next()
                    assert message.event == "agent.updated"
                    assert message.envelope["payload"] == {"agent_id": agent_id}
                    assert message.envelope["rooms"] == [f"agent:{agent_id}", f"organization:{organization_id}"]
    finally:
        for replica in replicas:
            replica.stop()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_user(admin: httpx.AsyncClient, username: str, organization_id: str) -> tuple[str, str]:
    """A user with an API token, a member of the organization; returns (id, token)."""
    user = await admin.post("/api/v1/users", json={"oidc_subject": f"test|{username}", "username": username})
    assert user.status_code == 201, user.text
    user_id = user.json()["id"]
    token = await admin.post(f"/api/v1/users/{user_id}/api-tokens", json={"name": "test"})
    assert token.status_code == 201, token.text
    member = await admin.post("/api/v1/memberships", json={
        "organization_id": organization_id, "identity_id": user_id, "role": "member"})
    assert member.status_code == 201, member.text
    return user_id, str(token.json()["token"])


async def make_agent(client: httpx.AsyncClient) -> tuple[str, str]:
    """An organization with a model and an agent, made by the caller; returns (agent id, organization id)."""
    org = await client.post("/api/v1/organizations", json={"name": "replicas"})
    assert org.status_code == 201, org.text
    organization_id = org.json()["id"]
    provider = await client.post("/api/v1/llm-providers", json={
        "organization_id": organization_id, "endpoint": "https://llm.example", "auth_method": "bearer",
        "token": "sk-test"})
    assert provider.status_code == 201, provider.text
    model = await client.post("/api/v1/models", json={
        "organization_id": organization_id, "name": "gpt", "llm_provider_id": provider.json()["id"],
        "remote_name": "gpt-4o"})
    assert model.status_code == 201, model.text
    agent = await client.post("/api/v1/agents", json={
        "organization_id": organization_id, "name": "helper", "role": "assistant", "model": model.json()["id"],
        "availability": "internal"})
    assert agent.status_code == 201, agent.text
    return agent.json()["id"], organization_id
