"""Socket.IO at `/socket.io/` (python-socketio, ASGI): connect with `auth={"token": ...}`, emit
`subscribe` `{rooms}` (answered with `{rooms: granted}` or `{error: problem}`), receive each envelope
under its event name. Rooms are this module's (the hub's), not Socket.IO's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import socketio

from agyn.kit import jsonlimits
from agyn.kit.errors import InvalidArgument, ProblemError, Unauthenticated
from agyn.kit.principal import Principal
from agyn.notifications.hub import SLOW_CONSUMER, Closed, Heartbeat, Subscription
from agyn.notifications.rooms import split_rooms
from agyn.notifications.service import NotificationsService
from agyn.notifications.sse import CLOSED_EVENT

log = logging.getLogger("agyn.notifications")
NAMESPACE = "/"


@dataclass
class _Client:
    principal: Principal
    subscription: Subscription
    pump: asyncio.Task[None]


def _rooms_of(data: Any) -> list[str]:
    rooms = data.get("rooms") if isinstance(data, dict) else None
    if isinstance(rooms, str):
        return split_rooms(rooms)
    if isinstance(rooms, list) and all(isinstance(room, str) for room in rooms):
        return [room.strip() for room in rooms if room.strip()]
    raise InvalidArgument.field("rooms", "send {\"rooms\": [\"thread_participant:me\", ...]}")


class _LimitedJson:
    """The JSON of Socket.IO packets from clients: nested past `MAX_JSON_DEPTH`, a packet is refused
    (dropped, as any undecodable packet) before the parser recurses."""

    dumps = staticmethod(json.dumps)
    loads = staticmethod(jsonlimits.loads)


# a subclass: python-socketio's `json=` option would set the parser of every Packet in the process
class _Packet(socketio.packet.Packet):  # type: ignore[misc]  # the library is untyped
    json = _LimitedJson


class SocketIOGateway:
    def __init__(self, notifications: NotificationsService) -> None:
        self.notifications = notifications
        self.hub = notifications.hub
        self.server = socketio.AsyncServer(async_mode="asgi", logger=False, engineio_logger=False,
                                           serializer=_Packet)
        self.asgi = socketio.ASGIApp(self.server, socketio_path=None)
        """The ASGI app the composition root mounts at `/socket.io`."""
        self._clients: dict[str, _Client] = {}
        self.server.on("connect", self._connect)
        self.server.on("disconnect", self._disconnect)
        self.server.on("subscribe", self._subscribe)
        self.server.on("unsubscribe", self._unsubscribe)

    @property
    def clients(self) -> int:
        return len(self._clients)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any) -> None:
        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            if not isinstance(token, str) or not token:
                raise Unauthenticated("connect with auth {\"token\": \"<API token>\"}")
            principal = await self.notifications.authenticate(token)
        except Unauthenticated as error:
            # the client sees {message, data}: the detail, and the problem's code and detail
            raise socketio.exceptions.ConnectionRefusedError(
                error.detail, {"code": error.code, "detail": error.detail}) from None
        subscription = self.hub.subscribe(())
        pump = asyncio.create_task(self._pump(sid, subscription), name=f"socketio-pump-{sid}")
        self._clients[sid] = _Client(principal, subscription, pump)

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        client = self._clients.pop(sid, None)
        if client is not None:
            self.hub.unsubscribe(client.subscription)
            if client.pump is not asyncio.current_task():
                client.pump.cancel()

    async def _subscribe(self, sid: str, data: Any) -> dict[str, Any]:
        client = self._clients.get(sid)
        if client is None:
            return {"error": Unauthenticated("connect first").to_problem()}
        try:
            granted = await self.notifications.grant(client.principal, _rooms_of(data))
        except ProblemError as error:
            return {"error": error.to_problem()}
        self.hub.add_rooms(client.subscription, granted)
        return {"rooms": granted}

    async def _unsubscribe(self, sid: str, data: Any) -> dict[str, Any]:
        client = self._clients.get(sid)
        if client is None:
            return {"error": Unauthenticated("connect first").to_problem()}
        try:
            names = set(_rooms_of(data))
        except ProblemError as error:
            return {"error": error.to_problem()}
        me = f"thread_participant:{client.principal.identity_id}"
        rooms = {me if name == "thread_participant:me" else name for name in names}
        self.hub.remove_rooms(client.subscription, rooms)
        return {"rooms": sorted(client.subscription.rooms)}

    async def _pump(self, sid: str, subscription: Subscription) -> None:
        """Hands this client's envelopes to its Engine.IO transport, each as the packet encoded once for
        every client (what `emit` would encode per client); a client whose transport falls behind is
        dropped."""
        eio_sid = self.server.manager.eio_sid_from_sid(sid, NAMESPACE)
        while True:
            item = await subscription.get()
            if isinstance(item, Heartbeat):  # Engine.IO pings on its own
                continue
            if isinstance(item, Closed):
                await self.server.emit(CLOSED_EVENT, item.as_dict(), to=sid)
                await self.server.disconnect(sid)
                return
            await self.server.eio.send(eio_sid, item.socketio)
            if self._backlog(eio_sid) > self.hub.queue_size:
                self.hub.drop(subscription, SLOW_CONSUMER,
                              f"more than {self.hub.queue_size} events were waiting for this client; "
                              "pull to resynchronise")

    def _backlog(self, eio_sid: str | None) -> int:
        """Packets queued on the client's Engine.IO transport, not yet written to it."""
        socket = self.server.eio.sockets.get(eio_sid) if eio_sid is not None else None
        queue = getattr(socket, "queue", None)
        return queue.qsize() if isinstance(queue, asyncio.Queue) else 0

    async def close(self) -> None:
        for client in tuple(self._clients.values()):
            client.pump.cancel()
        await asyncio.gather(*(c.pump for c in self._clients.values()), return_exceptions=True)
        await self.server.shutdown()
