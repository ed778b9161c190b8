"""The hub of one process: who listens to which rooms, each with a bounded queue.

Delivery never waits on a subscriber: an envelope is put in each listener's queue, and a listener
whose queue is full is dropped there and then (its buffered envelopes discarded, a `Closed` notice
queued in their place) so that one slow client never slows the others. A dropped client
resynchronises by pulling (docs/notifications.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from agyn.notifications.envelope import Envelope

log = logging.getLogger("agyn.notifications")

SLOW_CONSUMER = "slow_consumer"
SERVER_SHUTDOWN = "server_shutdown"
EVENTS_LOST = "events_lost"


@dataclass(frozen=True, slots=True)
class Closed:
    """The last thing a dropped subscription yields: why it ended."""

    reason: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "detail": self.detail}


class Heartbeat:
    """Time to show the connection is alive (for transports that need it: SSE)."""


HEARTBEAT = Heartbeat()
Item = Envelope | Closed | Heartbeat


class Subscription:
    """One client's interest in some rooms, and the envelopes waiting for it (a deque and one waiter:
    lighter than an asyncio.Queue on the fan-out path, which runs once per subscriber per event)."""

    __slots__ = ("_items", "_on_close", "_size", "_waiter", "closed", "heartbeats", "rooms")

    def __init__(self, rooms: Iterable[str], queue_size: int, on_close: Callable[[Closed], None] | None,
                 heartbeats: bool) -> None:
        self.rooms: set[str] = set(rooms)
        self.closed: Closed | None = None
        self.heartbeats = heartbeats
        self._items: deque[Item] = deque()
        self._size = queue_size
        self._waiter: asyncio.Future[None] | None = None
        self._on_close = on_close

    async def get(self) -> Item:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.popleft()

    def get_nowait(self) -> Item | None:
        return self._items.popleft() if self._items else None

    def _put(self, item: Item) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _offer(self, item: Envelope | Heartbeat) -> bool:
        if len(self._items) >= self._size:
            return False
        self._put(item)
        return True

    def _close(self, closed: Closed) -> None:
        self.closed = closed
        self._items.clear()
        self._put(closed)
        if self._on_close is not None:
            self._on_close(closed)


class Hub:
    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self._rooms: dict[str, set[Subscription]] = {}
        self._subscriptions: set[Subscription] = set()
        self.dropped = 0
        """Subscriptions dropped for being too slow, since start."""

    @property
    def subscriptions(self) -> int:
        return len(self._subscriptions)

    def subscribe(self, rooms: Iterable[str], on_close: Callable[[Closed], None] | None = None, *,
                  heartbeats: bool = False) -> Subscription:
        """A subscription to `rooms` (already authorized); `on_close` hears when the hub ends it;
        with `heartbeats` it also yields `HEARTBEAT` each time `beat` is called."""
        subscription = Subscription((), self.queue_size, on_close, heartbeats)
        self._subscriptions.add(subscription)
        self.add_rooms(subscription, rooms)
        return subscription

    def add_rooms(self, subscription: Subscription, rooms: Iterable[str]) -> None:
        if subscription.closed is not None:
            return
        for room in rooms:
            subscription.rooms.add(room)
            self._rooms.setdefault(room, set()).add(subscription)

    def remove_rooms(self, subscription: Subscription, rooms: Iterable[str]) -> None:
        for room in rooms:
            subscription.rooms.discard(room)
            listeners = self._rooms.get(room)
            if listeners is not None:
                listeners.discard(subscription)
                if not listeners:
                    del self._rooms[room]

    def unsubscribe(self, subscription: Subscription) -> None:
        """The client went away (or was dropped): forget it."""
        self.remove_rooms(subscription, tuple(subscription.rooms))
        self._subscriptions.discard(subscription)

    def deliver(self, envelope: Envelope) -> int:
        """Queue `envelope` for every subscriber of any of its rooms (once each); returns how many."""
        rooms = envelope.rooms
        if len(rooms) == 1:
            listeners = self._rooms.get(rooms[0])
            targets: Iterable[Subscription] = tuple(listeners) if listeners else ()
        else:
            found: set[Subscription] = set()
            for room in rooms:
                found.update(self._rooms.get(room, ()))
            targets = found
        delivered = 0
        for subscription in targets:
            if subscription._offer(envelope):
                delivered += 1
            else:
                self.dropped += 1
                self.drop(subscription, SLOW_CONSUMER,
                          f"more than {self.queue_size} events were waiting for this client; pull to resynchronise")
        return delivered

    def beat(self) -> None:
        """A heartbeat to every subscription that wants them (none for one whose queue is full: it is
        busy, and one more envelope drops it anyway)."""
        for subscription in self._subscriptions:
            if subscription.heartbeats:
                subscription._offer(HEARTBEAT)

    def drop(self, subscription: Subscription, reason: str, detail: str) -> None:
        """End a subscription: it yields `Closed(reason, detail)` next, and nothing after."""
        if subscription.closed is not None:
            return
        log.info("notification subscriber dropped", extra={"reason": reason, "rooms": sorted(subscription.rooms)})
        self.unsubscribe(subscription)
        subscription._close(Closed(reason, detail))

    def close_all(self, reason: str, detail: str) -> None:
        for subscription in tuple(self._subscriptions):
            self.drop(subscription, reason, detail)
