"""The queries of conversations: a page of someone's conversations with their chat state."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.chat.models import Conversation
from agyn.chat.schemas import StatusFilter
from agyn.kit.pagination import PageRequest, encode_page_token
from agyn.threads.models import Participant, Thread

Row = tuple[Thread, Conversation | None]


async def conversations_of(session: AsyncSession, identity_id: uuid.UUID, organization_id: uuid.UUID | None,
                           status: StatusFilter, page: PageRequest) -> tuple[list[Row], str | None]:
    """The conversations an identity takes part in (archived ones are deleted), newest first."""
    # driven by the caller's participations, in thread order, off the (identity_id, thread_id) index
    statement = (select(Thread, Conversation)
                 .select_from(Participant)
                 .join(Thread, Thread.id == Participant.thread_id)
                 .outerjoin(Conversation, Conversation.id == Participant.thread_id)
                 .where(Participant.identity_id == identity_id, Thread.status != "archived"))
    if organization_id is not None:
        statement = statement.where(Thread.organization_id == organization_id)
    if status == "open":
        statement = statement.where(or_(Conversation.status.is_(None), Conversation.status == "open"))
    elif status == "resolved":
        statement = statement.where(Conversation.status == "resolved")
    if page.after is not None:
        statement = statement.where(Participant.thread_id < page.after)
    statement = statement.order_by(Participant.thread_id.desc()).limit(page.size + 1)
    rows: list[Row] = [(row[0], row[1]) for row in await session.execute(statement)]
    if len(rows) > page.size:
        rows = rows[: page.size]
        return rows, encode_page_token(rows[-1][0].id)
    return rows, None


async def states_of(session: AsyncSession, thread_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Conversation]:
    if not thread_ids:
        return {}
    return {c.id: c for c in await session.scalars(select(Conversation).where(Conversation.id.in_(thread_ids)))}
