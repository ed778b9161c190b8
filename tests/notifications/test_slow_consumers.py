"""A subscriber that falls behind is dropped, with a reason, and the others do not wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from agyn.notifications.envelope import Envelope
from agyn.notifications.hub import SLOW_CONSUMER, Closed, Hub
from tests.notifications.support import WAIT, Live, live_server, sse


def envelope(n: int, *rooms: str) -> Envelope:
    return Envelope(id=str(n), ts="2026-01-01T00:00:00Z", source="tests", event="message.created",
                    rooms=rooms or ("r",), payload={"n": n})


async def test_a_full_queue_drops_its_subscriber_and_only_it() -> None:
    hub = Hub(queue_size=3)
    closed: list[Closed] = []
    slow, fast = hub.subscribe(["r"], closed.append), hub.subscribe(["r", "s"])
    for n in range(3):
        assert hub.deliver(envelope(n)) == 2
        assert (await fast.get()) == envelope(n)
    assert hub.deliver(envelope(3)) == 1  # the fourth waiting envelope: one too many for `slow`
    assert closed and closed[0].reason == SLOW_CONSUMER and slow.closed == closed[0]
    assert await slow.get() == closed[0]  # what it had is gone; the notice is all that is left
    assert slow.get_nowait() is None
    assert await fast.get() == envelope(3)
    assert hub.deliver(envelope(4)) == 1 and hub.subscriptions == 1 and hub.dropped == 1
    assert hub.deliver(envelope(5, "r", "s")) == 1  # once, though in two of its rooms


async def test_close_all_tells_every_subscriber_why() -> None:
    hub = Hub(queue_size=10)
    subscriptions = [hub.subscribe(["r"]) for _ in range(3)]
    hub.deliver(envelope(1))
    hub.close_all("server_shutdown", "bye")
    assert [await s.get() for s in subscriptions] == [Closed("server_shutdown", "bye")] * 3
    assert hub.subscriptions == 0 and hub.deliver(envelope(2)) == 0


@pytest_asyncio.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(database_url, tmp_path / "data", notifications={"queue_size": 16}) as live:
        yield live


async def test_a_slow_sse_consumer_is_dropped_while_a_fast_one_keeps_receiving(live: Live) -> None:
    user = await live.api.user()
    room = f"thread_participant:{user.id}"
    host, port = live.url.removeprefix("http://").split(":")
    # the slow consumer: subscribes, then reads nothing
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(f"GET /api/v1/events?rooms=thread_participant:me HTTP/1.1\r\nHost: {host}\r\n"
                 f"Authorization: Bearer {user.token}\r\n\r\n".encode())
    await writer.drain()
    await live.until_subscribed(1)
    big = "x" * 65_536
    sent = 300  # ~20 MB: more than the sockets between the server and a client that reads nothing can hold
    try:
        async with sse(live.api.client, user.token, "thread_participant:me") as fast:
            received = []
            for n in range(sent):
                await live.publish("message.created", (room,), n=n, padding=big)
                received.append((await fast.next()).envelope["payload"]["n"])
            assert received == list(range(sent))
            assert live.notifications.hub.dropped == 1 and live.notifications.hub.subscriptions == 1
            # the slow one's connection is closed: what it can still read ends
            async with asyncio.timeout(WAIT):
                while await reader.read(1 << 20):
                    pass
    finally:
        writer.close()
