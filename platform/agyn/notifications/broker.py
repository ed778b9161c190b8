"""Where envelopes go between publishing and the hubs: straight to this process's hub, or through one
Redis pub/sub channel that every replica listens to (each fans out to its own subscribers).

Fire-and-forget both ways: the database is the truth, and a client that missed an envelope pulls.
"""

from __future__ import annotations

import logging
from typing import Protocol

from redis.asyncio import Redis

from agyn.kit.channel_listener import ChannelListener
from agyn.notifications.envelope import Envelope, MalformedEnvelope
from agyn.notifications.hub import EVENTS_LOST, Hub

log = logging.getLogger("agyn.notifications")


class Broker(Protocol):
    async def publish(self, envelope: Envelope) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalBroker:
    """One process: publishing is delivering."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def publish(self, envelope: Envelope) -> None:
        self.hub.deliver(envelope)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBroker:
    """Several replicas: publish to the channel; one listener task per process delivers what arrives
    (including what this process published) to the local hub."""

    def __init__(self, redis: Redis, channel: str, hub: Hub) -> None:
        self.redis = redis
        self.channel = channel
        self.hub = hub
        self._listener = ChannelListener(redis, channel, on_message=self._deliver, on_subscribed=self._subscribed,
                                         retry_seconds=(0.1, 0.5, 1.0, 2.0, 5.0),
                                         name="the Redis notifications listener", log=log)

    async def publish(self, envelope: Envelope) -> None:
        await self.redis.publish(self.channel, envelope.encoded)

    async def start(self) -> None:
        await self._listener.start()

    async def stop(self) -> None:
        await self._listener.stop()

    def _subscribed(self, resubscribed: bool) -> None:
        if resubscribed:
            # envelopes published while we were away are lost: every client resynchronises
            self.hub.close_all(EVENTS_LOST, "the server lost events for a moment; pull to resynchronise")
            log.info("resubscribed to the Redis notifications channel", extra={"channel": self.channel})

    def _deliver(self, data: bytes | str) -> None:
        try:
            envelope = Envelope.from_json(data)
        except MalformedEnvelope as error:
            log.warning("ignored a message on the notifications channel", extra={"reason": str(error)})
            return
        self.hub.deliver(envelope)
