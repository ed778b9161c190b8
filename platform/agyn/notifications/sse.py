"""A Server-Sent Events stream of one subscription.

The caller is authenticated and its rooms authorized before this response exists; the stream holds
no database session. Once the response headers are out the subscription is in place, so a client may
pull the state it needs and apply only the events newer than what it pulled.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from agyn.notifications.envelope import Envelope
from agyn.notifications.hub import Closed, Hub, Item, Subscription

CLOSED_EVENT = "notifications.closed"
CLOSE_GRACE_SECONDS = 2.0
"""A dropped client gets this long to take its closing notice before the connection is cut."""
HEARTBEAT_COMMENT = b": heartbeat\n\n"


def closed_frame(closed: Closed) -> bytes:
    return f"event: {CLOSED_EVENT}\ndata: {json.dumps(closed.as_dict())}\n\n".encode()


class EventStream(Response):
    media_type = "text/event-stream"

    def __init__(self, hub: Hub, rooms: Sequence[str], thread_id: uuid.UUID | None = None) -> None:
        # not Response.__init__, which would declare an empty body's Content-Length
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.hub = hub
        self.rooms = tuple(rooms)
        self.thread_id = str(thread_id) if thread_id is not None else None
        """Set for a workload: only envelopes about its own thread (or about no thread) go out."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        writer: asyncio.Task[None] | None = None
        cut: asyncio.TimerHandle | None = None

        def on_close(closed: Closed) -> None:
            # the writer may be stuck sending to a client that reads nothing: give it a moment, then cut
            nonlocal cut
            if writer is not None:
                cut = asyncio.get_running_loop().call_later(CLOSE_GRACE_SECONDS, writer.cancel)

        subscription = self.hub.subscribe(self.rooms, on_close, heartbeats=True)
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b": subscribed\n\n", "more_body": True})
            writer = asyncio.create_task(self._write(subscription, send))
            listener = asyncio.create_task(_disconnected(receive))
            try:
                await asyncio.wait((writer, listener), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (writer, listener):
                    task.cancel()
                await asyncio.gather(writer, listener, return_exceptions=True)
        finally:
            if cut is not None:
                cut.cancel()
            self.hub.unsubscribe(subscription)
        # a writer that did not finish leaves the response incomplete: the server closes the connection

    async def _write(self, subscription: Subscription, send: Send) -> None:
        while True:
            item: Item | None = await subscription.get()
            chunks: list[bytes] = []
            while item is not None:  # everything already waiting goes out in one write
                if isinstance(item, Closed):
                    chunks.append(closed_frame(item))
                    await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": False})
                    return
                if not isinstance(item, Envelope):
                    chunks.append(HEARTBEAT_COMMENT)
                elif self.thread_id is None or item.payload.get("thread_id", self.thread_id) == self.thread_id:
                    chunks.append(item.sse)
                item = subscription.get_nowait()
            await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
