"""Stopping a background loop without cutting its work in half.

A loop cancelled in the middle of a database transaction may leave its connection to be cleaned up
later (a second cancellation during the rollback does), and on SQLite that connection keeps the write
lock meanwhile. So a loop is asked to stop: it finishes the work in hand and leaves at its next wait.
Only a loop that does not leave within the grace is cancelled."""

from __future__ import annotations

import asyncio
import contextlib

STOP_GRACE_SECONDS = 10.0


class StopSignal:
    """What a loop waits on between passes: its wake-up, a timeout, or the request to stop."""

    def __init__(self) -> None:
        self.requested = False
        self._event = asyncio.Event()

    def request(self) -> None:
        self.requested = True
        self._event.set()

    async def wait(self, seconds: float, *, wake: asyncio.Event | None = None) -> bool:
        """Sleep up to `seconds`; True when woken (by `wake` or the stop request) rather than timed out."""
        waits = [asyncio.ensure_future(self._event.wait())]
        if wake is not None:
            waits.append(asyncio.ensure_future(wake.wait()))
        try:
            done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        return bool(done)


async def stop_loop(task: asyncio.Task[None], signal: StopSignal, *, grace: float = STOP_GRACE_SECONDS) -> None:
    """Ask the loop to stop and wait for it to leave; cancel it when it has not within `grace` seconds."""
    signal.request()
    try:
        await asyncio.wait_for(asyncio.shield(task), grace)
    except TimeoutError:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
