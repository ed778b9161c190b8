"""The files module's queries beyond get-by-id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.files.models import Attachment, File


async def files_by_id(session: AsyncSession, file_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, File]:
    found = await session.scalars(select(File).where(File.id.in_(file_ids)))
    return {file.id: file for file in found}


async def attach_new(session: AsyncSession, thread_id: uuid.UUID, file_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Record that the thread carries these files; returns those it did not carry yet. Two messages
    attaching the same file at once both succeed: the second insert waits for the first, then skips."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(Attachment).values([{"file_id": file_id, "thread_id": thread_id} for file_id in file_ids])
    inserted = await session.scalars(statement.on_conflict_do_nothing().returning(Attachment.file_id))
    return list(inserted)
