"""Orphan tuples: relationships that name an object (or a subject) that no longer exists.

The platform deletes an object's tuples in the transaction that deletes the object, so orphans
come only from drift: a deployment on an OpenFGA server whose after-commit write failed, a restored
backup, data from before a fix. `find_orphans` reports them; `remove_orphans` deletes them.
Objects are looked up by id in the table of their type (`OBJECT_TABLES`); ids that are not UUIDs
cannot name a row, so their tuples are orphans too. `cluster:global` is the one object with no row.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Uuid, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService

OBJECT_TABLES = {
    "identity": "identities",
    "organization": "organizations",
    "agent": "agents",
    "model": "models",
    "thread": "threads",
    "file": "files",
}
"""Each type of the model (but `cluster`, a singleton) and the table whose rows its objects are."""
ROWLESS_TYPES = frozenset({"cluster"})
LOOKUP_BATCH = 500


@dataclass(frozen=True)
class Orphan:
    key: TupleKey
    missing: str
    """The object or subject (`type:id`) the tuple names that does not exist."""


def _referenced(name: str) -> tuple[str, str]:
    """(`type`, `id`) of a tuple's object or subject; a userset (`organization:x#member`) names `x`."""
    object_type, _, object_id = name.partition(":")
    return object_type, object_id.partition("#")[0]


async def _existing(session: AsyncSession, object_type: str, ids: set[str]) -> set[str]:
    rows = table(OBJECT_TABLES[object_type], column("id", Uuid()))
    valid: list[uuid.UUID] = []
    for object_id in ids:
        try:
            valid.append(uuid.UUID(object_id))
        except ValueError:
            continue
    found: set[str] = set()
    for start in range(0, len(valid), LOOKUP_BATCH):
        batch = valid[start:start + LOOKUP_BATCH]
        found |= {str(row_id) for row_id in await session.scalars(select(rows.c.id).where(rows.c.id.in_(batch)))}
    return found


async def find_orphans(session: AsyncSession, authz: AuthorizationService) -> list[Orphan]:
    """Every stored tuple whose object or subject does not exist, in a stable order."""
    keys = await authz.read_stored(session)
    wanted: dict[str, set[str]] = defaultdict(set)
    for key in keys:
        for name in (key.user, key.object):
            object_type, object_id = _referenced(name)
            if object_type not in ROWLESS_TYPES:
                wanted[object_type].add(object_id)
    existing: dict[str, set[str]] = {}
    for object_type, ids in wanted.items():
        existing[object_type] = await _existing(session, object_type, ids) if object_type in OBJECT_TABLES \
            else set()  # a type with no table of its own: nothing of it can exist
    orphans: list[Orphan] = []
    for key in keys:
        for name in (key.object, key.user):
            object_type, object_id = _referenced(name)
            if object_type not in ROWLESS_TYPES and object_id not in existing[object_type]:
                orphans.append(Orphan(key, f"{object_type}:{object_id}"))
                break
    return sorted(orphans, key=lambda o: (o.key.object, o.key.relation, o.key.user))


async def remove_orphans(session: AsyncSession, authz: AuthorizationService, orphans: list[Orphan]) -> None:
    """Delete these tuples in the session's transaction (an OpenFGA server: once it commits)."""
    await authz.write(session, deletes=[orphan.key for orphan in orphans])
