"""A clock tests move by hand: expiry and cache windows without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agyn.kit.clock import Clock


class FakeClock(Clock):
    """Stands still from its creation until `advance` moves it; both readings move together."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)
        self.elapsed = 0.0

    def advance(self, seconds: float) -> None:
        self.elapsed += seconds

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed)

    def monotonic(self) -> float:
        return 1_000.0 + self.elapsed
