"""The one place services ask "may this identity do that?" and record relationships.

Writes join the caller's transaction: on the embedded engine the tuples are rows in the same
database (applied to the in-memory index after commit); on an OpenFGA server they are sent after
the commit, so a failed request never leaves a grant behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization.backends import AuthorizationBackend, MemoryBackend
from agyn.authorization.engine import Engine, InMemoryTupleStore, TupleKey
from agyn.authorization.models import AuthorizationTuple
from agyn.authorization.objects import CLUSTER
from agyn.kit.db import after_commit
from agyn.kit.errors import PermissionDenied
from agyn.kit.principal import Principal
from agyn.settings import Settings

MAX_REMEMBERED_IDS = 200_000
"""Ids kept by `list_object_uuids`, all answers together (past it the oldest answers go)."""
MAX_REMEMBERED_CHECKS = 100_000
"""Answers of `check_many` kept (past it they are all dropped)."""


class AuthorizationService:
    def __init__(self, backend: AuthorizationBackend, engine: Engine, store: InMemoryTupleStore | None) -> None:
        self.backend = backend
        self.engine = engine
        self._store = store
        self.generation = 0
        """Bumped whenever tuples change through this process (after the commit): a cache of answers
        remembers the generation it was filled at and drops what is older."""
        self._lists: dict[tuple[str, str, str], tuple[int, tuple[uuid.UUID, ...]]] = {}
        """(user, relation, type) → (the embedded store's version, the ids) of `list_object_uuids`."""
        self._listed = 0
        """How many ids `_lists` holds."""
        self._checks: dict[tuple[str, str, str], bool] = {}
        self._checks_version = -1
        """(user, relation, object) → `check_many`'s answer, all given at the embedded store's version
        `_checks_version`."""

    @classmethod
    def from_settings(cls, settings: Settings) -> AuthorizationService:
        engine = Engine.from_file()
        if settings.openfga.api_url:
            from agyn.authorization.openfga import OpenFGABackend

            return cls(OpenFGABackend.from_settings(settings.openfga), engine, None)
        store = InMemoryTupleStore()
        return cls(MemoryBackend(engine, store), engine, store)

    @property
    def embedded(self) -> bool:
        return self._store is not None

    async def load(self, session: AsyncSession) -> None:
        """Fill the embedded engine's index from the database (at start-up)."""
        if self._store is None:
            return
        rows = await session.execute(select(AuthorizationTuple.user, AuthorizationTuple.relation,
                                            AuthorizationTuple.object))
        self._store.clear()
        self._store.load(TupleKey(row.user, row.relation, row.object) for row in rows)
        self.generation += 1

    # --- questions -------------------------------------------------------------------------

    async def check(self, principal: Principal, relation: str, obj: str) -> bool:
        return await self.backend.check(principal.subject, relation, obj)

    async def check_many(self, principal: Principal, relation: str, objects: Sequence[str]) -> list[bool]:
        """One answer per object, in order. On the embedded engine each answer is kept until its tuples
        next change: a page of a hundred objects asks the same questions on every call."""
        if not objects:
            return []
        subject = principal.subject
        if self._store is None:
            return await self.backend.batch_check([TupleKey(subject, relation, o) for o in objects])
        if self._store.version != self._checks_version or len(self._checks) >= MAX_REMEMBERED_CHECKS:
            self._checks, self._checks_version = {}, self._store.version
        answers = self._checks
        keys = [(subject, relation, o) for o in objects]
        unknown = [key for key in keys if key not in answers]
        if unknown:  # the engine answers without waiting: no tuple can change before the answers are kept
            found = self.engine.batch_check(self._store, [TupleKey(*key) for key in unknown])
            answers.update(zip(unknown, found, strict=True))
        return [answers[key] for key in keys]

    async def is_cluster_admin(self, principal: Principal) -> bool:
        return await self.check(principal, "admin", CLUSTER)

    async def require(self, principal: Principal, relation: str, obj: str, action: str) -> None:
        """403 for a caller who can see `obj` but may not do `action`."""
        if not await self.check(principal, relation, obj):
            raise PermissionDenied(f"you may not {action}")

    async def list_object_ids(self, principal: Principal, relation: str, object_type: str) -> list[str]:
        objects = await self.backend.list_objects(principal.subject, relation, object_type)
        return [o.split(":", 1)[1] for o in objects]

    async def list_object_uuids(self, principal: Principal, relation: str,
                                object_type: str) -> Sequence[uuid.UUID]:
        """`list_object_ids` as UUIDs, for a list's filter. The embedded engine's answer is kept until its
        tuples next change (the same question has the same answer until then, and a page of a hundred
        asks it on every call); an OpenFGA server is asked every time."""
        if self._store is None:
            return [uuid.UUID(i) for i in await self.list_object_ids(principal, relation, object_type)]
        key, version = (principal.subject, relation, object_type), self._store.version
        known = self._lists.get(key)
        if known is not None and known[0] == version:
            return known[1]
        ids = tuple(uuid.UUID(i) for i in await self.list_object_ids(principal, relation, object_type))
        self._forget_list(key)
        while self._lists and self._listed + len(ids) > MAX_REMEMBERED_IDS:
            self._forget_list(next(iter(self._lists)))
        if len(ids) <= MAX_REMEMBERED_IDS:
            self._lists[key] = (version, ids)
            self._listed += len(ids)
        return ids

    def _forget_list(self, key: tuple[str, str, str]) -> None:
        forgotten = self._lists.pop(key, None)
        if forgotten is not None:
            self._listed -= len(forgotten[1])

    async def read(self, *, user: str | None = None, relation: str | None = None,
                   obj: str | None = None) -> list[TupleKey]:
        return await self.backend.read(user=user, relation=relation, object=obj)

    async def read_stored(self, session: AsyncSession, *, user: str | None = None, relation: str | None = None,
                          obj: str | None = None) -> list[TupleKey]:
        """Tuples as the caller's transaction sees them: on the embedded engine, read from its table
        (committed and staged rows, after any lock the transaction holds), not from the index, which
        learns of another transaction's commit only after it. An OpenFGA server is read as `read`.

        Same filters as `read`; `obj` may be a bare `type:`."""
        if self._store is None:
            if user is not None and obj is None:
                found: list[TupleKey] = []
                for type_name in self.engine.model.types:
                    found += await self.read(user=user, relation=relation, obj=f"{type_name}:")
                return found
            return await self.read(user=user, relation=relation, obj=obj)
        statement = select(AuthorizationTuple.user, AuthorizationTuple.relation, AuthorizationTuple.object)
        if user is not None:
            statement = statement.where(AuthorizationTuple.user == user)
        if relation is not None:
            statement = statement.where(AuthorizationTuple.relation == relation)
        if obj is not None:
            statement = statement.where(AuthorizationTuple.object.startswith(obj, autoescape=True) if obj.endswith(":")
                                        else AuthorizationTuple.object == obj)
        rows = await session.execute(statement)
        return [TupleKey(row.user, row.relation, row.object) for row in rows]

    # --- writes ----------------------------------------------------------------------------

    async def write(
        self, session: AsyncSession, writes: Iterable[TupleKey] = (), deletes: Iterable[TupleKey] = ()
    ) -> None:
        """Stage tuple writes and deletes in the caller's transaction."""
        writes, deletes = list(writes), list(deletes)
        for key in writes:
            self.engine.validate_tuple(key)
        if not writes and not deletes:
            return
        if self._store is None:
            after_commit(session, lambda: self._apply(writes, deletes), what="authorization tuples")
            return
        for key in deletes:
            await session.execute(
                delete(AuthorizationTuple).where(
                    AuthorizationTuple.user == key.user,
                    AuthorizationTuple.relation == key.relation,
                    AuthorizationTuple.object == key.object,
                )
            )
        for key in writes:
            if await session.get(AuthorizationTuple, (key.object, key.relation, key.user)) is None:
                session.add(AuthorizationTuple(user=key.user, relation=key.relation, object=key.object))
        await session.flush()
        after_commit(session, lambda: self._apply(writes, deletes), what="authorization tuples")

    async def _apply(self, writes: list[TupleKey], deletes: list[TupleKey]) -> None:
        try:
            await self.backend.write(writes, deletes)
        finally:
            self.generation += 1  # even a failed write may have changed some answers

    async def delete_object(self, session: AsyncSession, obj: str) -> None:
        """Remove every tuple whose object is `obj` (the object is being deleted)."""
        await self.write(session, deletes=await self.read_stored(session, obj=obj))

    async def delete_user(self, session: AsyncSession, user: str) -> None:
        """Remove every tuple that grants something to `user` (the identity is being deleted)."""
        await self.write(session, deletes=await self.read_stored(session, user=user))
