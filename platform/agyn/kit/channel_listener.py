"""One task per process following a Redis pub/sub channel: subscribe, hand each message on, and after a
failure subscribe again with backoff. The notifications broker and the read cache both listen this way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from redis.asyncio import Redis


class ChannelListener:
    START_WAIT_SECONDS = 5.0

    def __init__(self, redis: Redis, channel: str, *, on_message: Callable[[bytes | str], None],
                 on_subscribed: Callable[[bool], None], retry_seconds: Sequence[float], name: str,
                 log: logging.Logger) -> None:
        """`on_subscribed(resubscribed)` runs on every subscription; `resubscribed` after a failure, when
        what was published meanwhile is lost. `name` says what listens, in the task's name and the logs."""
        self.redis = redis
        self.channel = channel
        self.on_message = on_message
        self.on_subscribed = on_subscribed
        self.retry_seconds = retry_seconds
        self.name = name
        self.log = log
        self._task: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._first_attempt = asyncio.Event()

    async def start(self) -> None:
        """Start listening; wait (a little) for the first subscription, so what is published next is heard.
        A first attempt that fails (Redis refuses, say) ends the wait: the retries go on in the background,
        and the process starts and reports itself not ready meanwhile."""
        self._task = asyncio.create_task(self._listen(), name=self.name)
        try:
            await asyncio.wait_for(self._first_attempt.wait(), self.START_WAIT_SECONDS)
        except TimeoutError:
            pass
        if not self._subscribed.is_set():
            self.log.warning(f"{self.name}: not yet subscribed; retrying in the background",
                             extra={"channel": self.channel})

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.on_subscribed(attempt > 0)
                attempt = 0
                self._subscribed.set()
                self._first_attempt.set()
                async for message in pubsub.listen():
                    self.on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                self._first_attempt.set()
                delay = self.retry_seconds[min(attempt, len(self.retry_seconds) - 1)]
                attempt += 1
                self.log.exception(f"{self.name} failed; retrying",
                                   extra={"channel": self.channel, "retry_in_seconds": delay})
                await asyncio.sleep(delay)
            finally:
                await asyncio.shield(pubsub.aclose())  # type: ignore[no-untyped-call]  # untyped in redis-py
