"""The authorization backend interface the platform calls, and its embedded implementation.

Two implementations share one contract: `MemoryBackend` (embedded engine, the default) and
`agyn.authorization.openfga.OpenFgaBackend` (an OpenFGA server). Both write idempotently (writing a
stored tuple or deleting a missing one is a no-op), reject tuples the model does not allow with
`InvalidTupleError`, and accept the same `read` filters as OpenFGA's Read API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from agyn.authorization.engine import (
    Engine,
    InMemoryTupleStore,
    InvalidTupleError,
    TupleKey,
    parse_object,
)


@runtime_checkable
class AuthorizationBackend(Protocol):
    async def check(self, user: str, relation: str, object: str) -> bool: ...

    async def batch_check(self, items: Sequence[TupleKey]) -> list[bool]:
        """One answer per item, in order."""
        ...

    async def write(self, writes: Sequence[TupleKey] = (), deletes: Sequence[TupleKey] = ()) -> None:
        """Apply writes and deletes; atomic up to 100 tuples (OpenFGA's limit per call)."""
        ...

    async def read(
        self, user: str | None = None, relation: str | None = None, object: str | None = None
    ) -> list[TupleKey]:
        """Stored tuples matching the filter; see `validate_read_filter` for the allowed combinations."""
        ...

    async def list_objects(self, user: str, relation: str, object_type: str) -> list[str]: ...

    async def close(self) -> None: ...


def validate_read_filter(user: str | None, relation: str | None, object: str | None) -> None:
    """OpenFGA's Read rules, enforced by both backends so embedded code behaves as in production.

    No filter reads everything; otherwise `object` is required, either `type:id` or a bare `type:`,
    and a bare `type:` needs `user`.
    """
    if user is None and relation is None and object is None:
        return
    if object is None:
        raise InvalidTupleError("read: a filter needs `object` (`type:id`, or `type:` together with `user`)")
    if object.endswith(":"):
        if user is None:
            raise InvalidTupleError(f"read: object {object!r} names only a type, so `user` is required")
    else:
        parse_object(object)


def check_write_request(writes: Sequence[TupleKey], deletes: Sequence[TupleKey]) -> None:
    """A tuple may appear only once in a write request (OpenFGA rejects duplicates)."""
    seen: set[TupleKey] = set()
    for key in (*writes, *deletes):
        if key in seen:
            raise InvalidTupleError(f"write: tuple {key} appears more than once in one request")
        seen.add(key)


class MemoryBackend:
    """The embedded backend: the engine over an in-memory store (the platform persists around it)."""

    def __init__(self, engine: Engine, store: InMemoryTupleStore | None = None) -> None:
        self.engine = engine
        self.store = store if store is not None else InMemoryTupleStore()

    async def check(self, user: str, relation: str, object: str) -> bool:
        return self.engine.check(self.store, user, relation, object)

    async def batch_check(self, items: Sequence[TupleKey]) -> list[bool]:
        return self.engine.batch_check(self.store, items)

    async def write(self, writes: Sequence[TupleKey] = (), deletes: Sequence[TupleKey] = ()) -> None:
        """All-or-nothing: every tuple is validated before any is applied."""
        check_write_request(writes, deletes)
        for key in (*writes, *deletes):
            self.engine.validate_tuple(key)
        for key in deletes:
            self.store.remove(key)
        for key in writes:
            self.store.add(key)

    async def read(
        self, user: str | None = None, relation: str | None = None, object: str | None = None
    ) -> list[TupleKey]:
        validate_read_filter(user, relation, object)
        return list(self.store.read(user, relation, object))

    async def list_objects(self, user: str, relation: str, object_type: str) -> list[str]:
        return self.engine.list_objects(self.store, user, relation, object_type)

    async def close(self) -> None:
        """Nothing to release; present so callers can close any backend alike."""
