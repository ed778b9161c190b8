"""Socket.IO at `/socket.io/` with the official python-socketio client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import socketio

from tests.notifications.support import WAIT, Live, live_server


@pytest_asyncio.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(database_url, tmp_path / "data") as live:
        yield live


class Received:
    """What a client received, by event name, as it arrives."""

    def __init__(self, client: socketio.AsyncClient, *events: str) -> None:
        self.envelopes: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        for name in events:
            client.on(name, self._handler(name))

    def _handler(self, name: str) -> Any:
        async def handle(data: dict[str, Any]) -> None:
            await self.envelopes.put((name, data))
        return handle

    async def next(self) -> tuple[str, dict[str, Any]]:
        return await asyncio.wait_for(self.envelopes.get(), WAIT)


@asynccontextmanager
async def connected(live: Live, token: str, *events: str) -> AsyncIterator[tuple[socketio.AsyncClient, Received]]:
    client = socketio.AsyncClient(reconnection=False)
    received = Received(client, *events)
    await client.connect(live.url, auth={"token": token}, transports=["websocket"], wait_timeout=WAIT)
    try:
        yield client, received
    finally:
        await client.disconnect()


async def test_subscribe_then_receive_envelopes_under_their_event_names(live: Live) -> None:
    user = await live.api.user()
    org = await live.api.organization(user)
    async with connected(live, user.token, "message.created", "conversation.updated") as (client, received):
        answer = await client.call("subscribe", {"rooms": ["thread_participant:me", f"organization:{org['id']}"]},
                                   timeout=WAIT)
        assert answer == {"rooms": [f"thread_participant:{user.id}", f"organization:{org['id']}"]}
        sent = [await live.publish("message.created", (f"thread_participant:{user.id}",), n=0),
                await live.publish("conversation.updated", (f"organization:{org['id']}",), n=1),
                await live.publish("message.created", (f"thread_participant:{user.id}",), n=2)]
        got = [await received.next() for _ in sent]
    assert [name for name, _ in got] == ["message.created", "conversation.updated", "message.created"]
    assert [envelope["id"] for _, envelope in got] == [e.id for e in sent]
    assert set(got[0][1]) == {"id", "ts", "source", "event", "rooms", "payload"}
    assert got[1][1]["payload"] == {"n": 1} and got[1][1]["rooms"] == [f"organization:{org['id']}"]


async def test_a_refused_room_is_answered_with_an_error_and_nothing_is_subscribed(live: Live) -> None:
    user, outsider = await live.api.user(), await live.api.user()
    org = await live.api.organization(user)
    async with connected(live, outsider.token, "message.created") as (client, received):
        answer = await client.call("subscribe", {"rooms": ["thread_participant:me", f"organization:{org['id']}"]},
                                   timeout=WAIT)
        assert answer["error"]["status"] == 403 and answer["error"]["code"] == "permission_denied"
        assert answer["error"]["errors"][0]["message"].startswith(f"organization:{org['id']}:")
        assert (await client.call("subscribe", {"rooms": "nonsense"}, timeout=WAIT))["error"]["status"] == 403
        assert (await client.call("subscribe", {}, timeout=WAIT))["error"]["status"] == 400
        await live.publish("message.created", (f"thread_participant:{outsider.id}",))
        assert (await client.call("subscribe", {"rooms": ["thread_participant:me"]}, timeout=WAIT)) == {
            "rooms": [f"thread_participant:{outsider.id}"]}
        event = await live.publish("message.created", (f"thread_participant:{outsider.id}",))
        assert (await received.next())[1]["id"] == event.id  # only what was published once subscribed


async def test_unsubscribe_stops_delivery(live: Live) -> None:
    user = await live.api.user()
    org = await live.api.organization(user)
    async with connected(live, user.token, "message.created") as (client, received):
        await client.call("subscribe", {"rooms": ["thread_participant:me", f"organization:{org['id']}"]},
                          timeout=WAIT)
        assert await client.call("unsubscribe", {"rooms": ["thread_participant:me"]}, timeout=WAIT) == {
            "rooms": [f"organization:{org['id']}"]}
        await live.publish("message.created", (f"thread_participant:{user.id}",))
        event = await live.publish("message.created", (f"organization:{org['id']}",))
        assert (await received.next())[1]["id"] == event.id


@pytest.mark.parametrize("auth", [{"token": "agyn_" + "x" * 44}, {"token": ""}, None, {"nothing": 1}])
async def test_a_bad_or_missing_token_is_refused_at_connect(live: Live, auth: dict[str, Any] | None) -> None:
    client = socketio.AsyncClient(reconnection=False)
    errors: list[Any] = []

    @client.on("connect_error")
    async def refused(data: Any) -> None:
        errors.append(data)

    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(live.url, auth=auth, transports=["websocket"], wait_timeout=WAIT)
    assert len(errors) == 1 and errors[0]["data"]["code"] == "unauthenticated", errors
    assert errors[0]["message"] == errors[0]["data"]["detail"]
    assert live.platform.get(type(live.notifications)).hub.subscriptions == 0


async def test_the_default_transports_polling_then_websocket_work(live: Live) -> None:
    user = await live.api.user()
    client = socketio.AsyncClient(reconnection=False)
    received = Received(client, "message.created")
    await client.connect(live.url, auth={"token": user.token}, wait_timeout=WAIT)
    try:
        await client.call("subscribe", {"rooms": ["thread_participant:me"]}, timeout=WAIT)
        event = await live.publish("message.created", (f"thread_participant:{user.id}",))
        assert (await received.next())[1]["id"] == event.id
    finally:
        await client.disconnect()
