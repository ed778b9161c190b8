"""Time as the platform reads it: one `Clock` per platform, so tests move time instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall time (timestamps, expiry of stored records) and monotonic time (in-process caches)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = Clock()
