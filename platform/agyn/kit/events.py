"""The in-process event bus: modules publish domain events (`agent.updated`, `message.created`),
others subscribe. Events of a request are published only once its transaction has committed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.kit.db import after_commit, utcnow
from agyn.kit.ids import uuid7

log = logging.getLogger("agyn.events")


@dataclass(frozen=True)
class Event:
    """A domain event: small (ids, not documents); `rooms` say which real-time subscribers it is for
    (e.g. `thread_participant:<id>`, `agent:<id>`); none means it stays inside the process."""

    name: str
    payload: dict[str, Any]
    source: str
    rooms: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: str(uuid7()))
    ts: datetime = field(default_factory=utcnow)


Handler = Callable[[Event], Awaitable[None]]


class EventBus:
    """Handlers run one after another; each fails alone (logged with the event id and counted)."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self.handler_failures = Counter("agyn_event_handler_failures", "Event handlers that raised.", ["event"],
                                        registry=None)

    def subscribe(self, name: str, handler: Handler) -> None:
        """`name` is an event name, or `*` for every event."""
        self._handlers[name].append(handler)

    async def publish(self, event: Event) -> None:
        for handler in (*self._handlers.get(event.name, ()), *self._handlers.get("*", ())):
            try:
                await handler(event)
            except Exception:
                log.exception("event handler failed", extra={"event": event.name, "event_id": event.id})
                self.handler_failures.labels(event.name).inc()

    def publish_after_commit(self, session: AsyncSession, name: str, source: str, *, rooms: tuple[str, ...] = (),
                             **payload: Any) -> None:
        event = Event(name=name, payload=payload, source=source, rooms=rooms)
        after_commit(session, lambda: self.publish(event), what=f"event {name}", event_id=event.id)
