"""Where envelopes go between publishing and the hubs: straight to this process's hub, or through one
Redis pub/sub channel that every replica listens to (each fans out to its own subscribers).

Fire-and-forget both ways: the database is the truth, and a client that missed an envelope pulls.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from redis.asyncio import Redis

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

    RETRY_SECONDS = (0.1, 0.5, 1.0, 2.0, 5.0)
    START_WAIT_SECONDS = 5.0

    def __init__(self, redis: Redis, channel: str, hub: Hub) -> None:
        self.redis = redis
        self.channel = channel
        self.hub = hub
        self._listener: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    async def publish(self, envelope: Envelope) -> None:
        await self.redis.publish(self.channel, envelope.encoded)

    async def start(self) -> None:
        """Start listening; wait (a little) until subscribed, so what is published next is heard."""
        self._listener = asyncio.create_task(self._listen(), name="notifications-redis-listener")
        try:
            await asyncio.wait_for(self._subscribed.wait(), self.START_WAIT_SECONDS)
        except TimeoutError:
            log.warning("not yet subscribed to the Redis notifications channel; retrying in the background",
                        extra={"channel": self.channel})

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                if attempt:
                    # envelopes published while we were away are lost: every client resynchronises
                    self.hub.close_all(EVENTS_LOST, "the server lost events for a moment; pull to resynchronise")
                    log.info("resubscribed to the Redis notifications channel", extra={"channel": self.channel})
                attempt = 0
                self._subscribed.set()
                async for message in pubsub.listen():
                    self._deliver(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                delay = self.RETRY_SECONDS[min(attempt, len(self.RETRY_SECONDS) - 1)]
                attempt += 1
                log.exception("the Redis notifications listener failed; retrying",
                              extra={"channel": self.channel, "retry_in_seconds": delay})
                await asyncio.sleep(delay)
            finally:
                await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]  # untyped in redis-py

    def _deliver(self, data: bytes | str) -> None:
        try:
            envelope = Envelope.from_json(data)
        except MalformedEnvelope as error:
            log.warning("ignored a message on the notifications channel", extra={"reason": str(error)})
            return
        self.hub.deliver(envelope)
