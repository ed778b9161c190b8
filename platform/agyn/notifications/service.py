"""The notifications service: forwards events that have rooms to the broker, and lets a caller
(authenticated in a short transaction of its own, never held across a stream) subscribe to rooms."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from agyn.kit.errors import PermissionDenied, Unauthenticated
from agyn.kit.events import Event
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.notifications.broker import Broker, LocalBroker, RedisBroker
from agyn.notifications.envelope import Envelope
from agyn.notifications.hub import SERVER_SHUTDOWN, Hub
from agyn.notifications.rooms import RoomAuthorizer, authorize_rooms
from agyn.settings import NotificationsSettings


class NotificationsService:
    def __init__(self, platform: Platform, settings: NotificationsSettings, rooms: RoomAuthorizer) -> None:
        self.platform = platform
        self.settings = settings
        self.rooms = rooms
        self.hub = Hub(settings.queue_size)
        self.broker: Broker = (RedisBroker(platform.redis, settings.redis_channel, self.hub)
                               if platform.redis is not None else LocalBroker(self.hub))
        self._heartbeat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.broker.start()
        self._heartbeat = asyncio.create_task(self._beat(), name="notifications-heartbeat")

    async def stop(self) -> None:
        self.close_streams()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            await asyncio.gather(self._heartbeat, return_exceptions=True)
        await self.broker.stop()

    async def _beat(self) -> None:
        # one timer for every stream, not one per stream and event
        while True:
            await asyncio.sleep(self.settings.heartbeat_seconds)
            self.hub.beat()

    async def forward(self, event: Event) -> None:
        """An event bus handler: every event with rooms goes out to the clients listening to them."""
        if event.rooms:
            await self.broker.publish(Envelope.from_event(event))

    async def authenticate(self, credential: str) -> Principal:
        """The caller behind a bearer token, in a transaction of its own (`Unauthenticated` if none)."""
        async with self.platform.database.transaction() as session:
            principal = await self.platform.authenticator.authenticate(session, credential)
        if principal.scope is not None:
            raise Unauthenticated("a workload token cannot subscribe to events; use an API token")
        return principal

    async def grant(self, principal: Principal, rooms: Sequence[str]) -> list[str]:
        if principal.scope is not None and any(
                room not in ("thread_participant:me", f"thread_participant:{principal.identity_id}") for room in rooms):
            # a workload hears of its agent's deliveries (in its own thread: `EventStream.thread_id`) and nothing else
            raise PermissionDenied("a workload token may listen to thread_participant:me only")
        return await authorize_rooms(self.rooms, principal, rooms)

    def close_streams(self) -> None:
        """The process is going away: every client is told so (and reconnects elsewhere)."""
        self.hub.close_all(SERVER_SHUTDOWN, "the server is shutting down; reconnect, then pull to resynchronise")
