"""What the proxy remembers between calls so that a repeat caller costs no database round trip and no
authorization round trip: model resolutions and `can_use` answers.

Both are invalidated explicitly: resolutions when a model or provider is written (the llm module's
`model.updated` / `llm_provider.updated` events, after commit), permissions when any authorization
tuple changes (the authorization service's generation). `ttl` bounds how long another replica's write
(not seen here) can go unnoticed. A lookup that raced with an invalidation is not stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from agyn.kit.clock import Clock
from agyn.llm.service import ResolvedModel

ResolutionKey = tuple[str, uuid.UUID | None]
"""(the `model` a caller sent, the organization it named or None)."""


@dataclass(frozen=True, slots=True)
class _Resolution:
    candidates: tuple[ResolvedModel, ...]
    fresh_until: float


class ResolutionCache:
    """`model` (an id or a name) → every model it may mean, with its provider's endpoint and credentials."""

    def __init__(self, ttl: float, clock: Clock, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self.version = 0
        self._entries: dict[ResolutionKey, _Resolution] = {}

    def get(self, key: ResolutionKey) -> tuple[ResolvedModel, ...] | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.fresh_until < self.clock.monotonic():
            self._entries.pop(key, None)
            return None
        return entry.candidates

    def put(self, key: ResolutionKey, candidates: tuple[ResolvedModel, ...], version: int) -> None:
        """Store what a lookup that started at `version` found, unless the cache was cleared since."""
        if self.ttl <= 0 or version != self.version:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[key] = _Resolution(candidates, self.clock.monotonic() + self.ttl)

    def clear(self) -> None:
        self.version += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class _Answer:
    allowed: bool
    generation: int
    fresh_until: float


class PermissionCache:
    """(identity, model) → may use it; an answer given at an older tuple generation is not trusted."""

    def __init__(self, ttl: float, clock: Clock, generation: Callable[[], int], max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.clock = clock
        self.generation = generation
        self.max_entries = max_entries
        self._entries: dict[tuple[uuid.UUID, uuid.UUID], _Answer] = {}

    def get(self, identity_id: uuid.UUID, model_id: uuid.UUID) -> bool | None:
        entry = self._entries.get((identity_id, model_id))
        if entry is None:
            return None
        if entry.generation != self.generation() or entry.fresh_until < self.clock.monotonic():
            self._entries.pop((identity_id, model_id), None)
            return None
        return entry.allowed

    def put(self, identity_id: uuid.UUID, model_id: uuid.UUID, allowed: bool, generation: int) -> None:
        """Store an answer computed at `generation` (an older one is dropped on the next read)."""
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))
        self._entries[(identity_id, model_id)] = _Answer(allowed, generation, self.clock.monotonic() + self.ttl)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
