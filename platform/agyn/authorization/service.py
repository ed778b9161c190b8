"""The one place services ask "may this identity do that?" and record relationships.

Writes join the caller's transaction: on the embedded engine the tuples are rows in the same
database (applied to the in-memory index after commit); on an OpenFGA server they are sent after
the commit, so a failed request never leaves a grant behind.
"""

from __future__ import annotations

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


class AuthorizationService:
    def __init__(self, backend: AuthorizationBackend, engine: Engine, store: InMemoryTupleStore | None) -> None:
        self.backend = backend
        self.engine = engine
        self._store = store
        self.generation = 0
        """Bumped whenever tuples change through this process (after the commit): a cache of answers
        remembers the generation it was filled at and drops what is older."""

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
        if not objects:
            return []
        return await self.backend.batch_check([TupleKey(principal.subject, relation, o) for o in objects])

    async def is_cluster_admin(self, principal: Principal) -> bool:
        return await self.check(principal, "admin", CLUSTER)

    async def require(self, principal: Principal, relation: str, obj: str, action: str) -> None:
        """403 for a caller who can see `obj` but may not do `action`."""
        if not await self.check(principal, relation, obj):
            raise PermissionDenied(f"you may not {action}")

    async def list_object_ids(self, principal: Principal, relation: str, object_type: str) -> list[str]:
        objects = await self.backend.list_objects(principal.subject, relation, object_type)
        return [o.split(":", 1)[1] for o in objects]

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
