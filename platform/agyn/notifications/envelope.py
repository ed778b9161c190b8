"""The envelope every client receives: `{id, ts, source, event, rooms, payload}`.

It is encoded once where it enters the process (from the event bus or from Redis), and the same
bytes go to every subscriber of this replica.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from agyn.kit.events import Event


class MalformedEnvelope(ValueError):
    """Something on the broker's channel that is not an envelope."""


@dataclass(frozen=True, slots=True)
class Envelope:
    id: str
    ts: str
    """When the event happened: RFC 3339, UTC, e.g. `2026-05-01T12:00:00.123456Z`."""
    source: str
    event: str
    rooms: tuple[str, ...]
    payload: dict[str, Any]
    encoded: str = field(init=False, compare=False, repr=False)
    """The envelope as JSON."""
    sse: bytes = field(init=False, compare=False, repr=False)
    """The envelope as one Server-Sent Events message."""
    socketio: str = field(init=False, compare=False, repr=False)
    """The envelope as a Socket.IO (protocol v5) EVENT packet of the default namespace, named after its
    event: `2["<event>",<envelope>]`."""

    def __post_init__(self) -> None:
        encoded = json.dumps(self.as_dict(), separators=(",", ":"), default=str)
        object.__setattr__(self, "encoded", encoded)
        object.__setattr__(self, "sse", f"id: {self.id}\nevent: {self.event}\ndata: {encoded}\n\n".encode())
        object.__setattr__(self, "socketio", f"2[{json.dumps(self.event)},{encoded}]")

    @classmethod
    def from_event(cls, event: Event) -> Envelope:
        ts = event.ts.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return cls(id=event.id, ts=ts, source=event.source, event=event.name, rooms=event.rooms,
                   payload=event.payload)

    @classmethod
    def from_json(cls, text: str | bytes) -> Envelope:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise MalformedEnvelope(f"not JSON: {error}") from None
        if not isinstance(data, dict):
            raise MalformedEnvelope("not a JSON object")
        strings = {key: data.get(key) for key in ("id", "ts", "source", "event")}
        rooms, payload = data.get("rooms"), data.get("payload")
        if (not all(isinstance(value, str) for value in strings.values())
                or not isinstance(rooms, list) or not all(isinstance(room, str) for room in rooms)
                or not isinstance(payload, dict)):
            raise MalformedEnvelope("an envelope has string id, ts, source and event, a list of rooms and an "
                                    "object payload")
        return cls(id=str(strings["id"]), ts=str(strings["ts"]), source=str(strings["source"]),
                   event=str(strings["event"]), rooms=tuple(rooms), payload=payload)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ts": self.ts, "source": self.source, "event": self.event,
                "rooms": list(self.rooms), "payload": self.payload}
