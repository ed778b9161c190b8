"""End to end, as a new user would: two users and the admin in one organization talk in a
conversation; each message reaches the other's SSE stream and Socket.IO connection once, unread
counts rise and fall with `read`, and an outsider sees neither the thread nor its rooms."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import socketio

from tests.conftest import User, assert_problem
from tests.notifications.support import WAIT, Live, SseStream, live_server, sse

QUIET = 0.5  # how long "nothing more arrives" is watched for


@pytest_asyncio.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(database_url, tmp_path / "data") as live:
        yield live


class Listener:
    """One user's two connections: an SSE stream and a Socket.IO client, both on `thread_participant:me`."""

    def __init__(self, stream: SseStream, client: socketio.AsyncClient, received: asyncio.Queue[dict[str, Any]]):
        self.stream, self.client, self.received = stream, client, received

    async def next_both(self) -> tuple[dict[str, Any], dict[str, Any]]:
        by_sse = await self.stream.next()
        assert by_sse.event == "message.created"
        by_socketio = await asyncio.wait_for(self.received.get(), WAIT)
        return by_sse.envelope, by_socketio

    async def nothing_more(self) -> None:
        try:
            extra = await self.stream.next(timeout=QUIET)
        except TimeoutError:
            extra = None
        assert extra is None, extra
        assert self.received.empty(), self.received.get_nowait()


async def socketio_client(live: Live, user: User) -> tuple[socketio.AsyncClient, asyncio.Queue[dict[str, Any]]]:
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    @client.on("message.created")
    async def on_message(envelope: dict[str, Any]) -> None:
        await received.put(envelope)

    await client.connect(live.url, auth={"token": user.token}, transports=["websocket"], wait_timeout=WAIT)
    answer = await client.call("subscribe", {"rooms": ["thread_participant:me"]}, timeout=WAIT)
    assert answer == {"rooms": [f"thread_participant:{user.id}"]}
    return client, received


async def unread(live: Live, user: User, conversation_id: str) -> int:
    response = await live.api.client.get("/api/v1/conversations", headers=user.headers, params={"status": "all"})
    assert response.status_code == 200, response.text
    counts = {c["id"]: c["unread_count"] for c in response.json()["items"]}
    return int(counts[conversation_id])


async def send(live: Live, user: User, conversation_id: str, body: str) -> str:
    response = await live.api.client.post(f"/api/v1/conversations/{conversation_id}/messages", headers=user.headers,
                                          json={"body": body})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_two_users_talk_and_each_message_reaches_the_other_once(live: Live) -> None:
    api = live.api
    alice, bob, outsider = await api.user("alice"), await api.user("bob"), await api.user("outsider")
    org = await api.client.post("/api/v1/organizations", headers=api.admin, json={"name": "team"})
    assert org.status_code == 201, org.text
    organization_id = org.json()["id"]
    for user in (alice, bob):
        await api.add_member(organization_id, user)
    created = await api.client.post("/api/v1/conversations", headers=alice.headers,
                                    json={"organization_id": organization_id, "participants": [bob.id]})
    assert created.status_code == 201, created.text
    conversation_id = created.json()["id"]

    async with sse(api.client, alice.token, "thread_participant:me") as alice_sse, \
            sse(api.client, bob.token, "thread_participant:me") as bob_sse:
        alice_io, bob_io = await socketio_client(live, alice), await socketio_client(live, bob)
        try:
            alice_hears, bob_hears = Listener(alice_sse, *alice_io), Listener(bob_sse, *bob_io)
            first = await send(live, alice, conversation_id, "hello bob")
            for envelope in await bob_hears.next_both():
                assert envelope["event"] == "message.created" and envelope["rooms"] == [f"thread_participant:{bob.id}"]
                assert envelope["payload"]["message_id"] == first
                assert envelope["payload"]["thread_id"] == conversation_id
                assert envelope["payload"]["sender_id"] == alice.id
            assert await unread(live, bob, conversation_id) == 1

            second = await send(live, alice, conversation_id, "are you there?")
            assert [e["payload"]["message_id"] for e in await bob_hears.next_both()] == [second, second]
            assert await unread(live, bob, conversation_id) == 2

            reply = await send(live, bob, conversation_id, "hi alice")
            assert [e["payload"]["message_id"] for e in await alice_hears.next_both()] == [reply, reply]
            assert await unread(live, alice, conversation_id) == 1

            read = await api.client.post(f"/api/v1/conversations/{conversation_id}/read", headers=bob.headers)
            assert read.status_code == 200 and read.json()["acked"] == 2, read.text
            assert await unread(live, bob, conversation_id) == 0
            assert await unread(live, alice, conversation_id) == 1
            await api.client.post(f"/api/v1/conversations/{conversation_id}/read", headers=alice.headers)
            assert await unread(live, alice, conversation_id) == 0

            # once each: nobody hears a message twice, nor their own
            await alice_hears.nothing_more()
            await bob_hears.nothing_more()
        finally:
            await alice_io[0].disconnect()
            await bob_io[0].disconnect()

    # the outsider: the thread does not exist for them, and its rooms are refused
    assert_problem(await api.client.get(f"/api/v1/threads/{conversation_id}", headers=outsider.headers),
                   404, "not_found")
    assert_problem(await api.client.get(f"/api/v1/conversations/{conversation_id}", headers=outsider.headers),
                   404, "not_found")
    for room in (f"conversation:{conversation_id}", f"thread_participant:{bob.id}"):
        assert_problem(await api.client.get("/api/v1/events", headers=outsider.headers, params={"rooms": room}),
                       403, "permission_denied")
    client, _ = await socketio_client(live, outsider)
    try:
        answer = await client.call("subscribe", {"rooms": [f"conversation:{conversation_id}"]}, timeout=WAIT)
        assert answer["error"]["status"] == 403
    finally:
        await client.disconnect()
    # the participants may listen to the conversation's room, where its changes are announced
    async with sse(api.client, bob.token, f"conversation:{conversation_id}") as bob_watches:
        resolved = await api.client.patch(f"/api/v1/conversations/{conversation_id}", headers=alice.headers,
                                          json={"status": "resolved"})
        assert resolved.status_code == 200, resolved.text
        message = await bob_watches.next()
        assert message.event == "conversation.updated"
        assert message.envelope["payload"]["conversation_id"] == conversation_id
        assert f"conversation:{conversation_id}" in message.envelope["rooms"]
