"""Queries over threads that are more than CRUD, named for what they return. The chat module and the
orchestrator read threads through these, never through inline SQL of their own."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, func, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.identity.models import Identity
from agyn.kit.db import utcnow
from agyn.kit.pagination import PageRequest, encode_page_token
from agyn.kit.principal import IdentityType
from agyn.threads.models import Message, Participant, Recipient, Thread


async def _page(session: AsyncSession, statement: Select[Any], size: int,
                key: Any) -> tuple[list[Any], str | None]:
    rows = list((await session.scalars(statement.limit(size + 1))).all())
    if len(rows) > size:
        rows = rows[:size]
        return rows, encode_page_token(key(rows[-1]))
    return rows, None


async def participants_of(session: AsyncSession, thread_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each thread's participants, in the order they joined (one query for any number of threads)."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {thread_id: [] for thread_id in thread_ids}
    if not thread_ids:
        return found
    rows = await session.execute(select(Participant.thread_id, Participant.identity_id)
                                 .where(Participant.thread_id.in_(thread_ids))
                                 .order_by(Participant.thread_id, Participant.joined_at, Participant.identity_id))
    for row in rows:
        found[row.thread_id].append(row.identity_id)
    return found


async def agent_participants_of(session: AsyncSession,
                                thread_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each thread's participants that are agents (one query)."""
    found: dict[uuid.UUID, list[uuid.UUID]] = {thread_id: [] for thread_id in thread_ids}
    if not thread_ids:
        return found
    rows = await session.execute(
        select(Participant.thread_id, Participant.identity_id)
        .join(Identity, Identity.id == Participant.identity_id)
        .where(Participant.thread_id.in_(thread_ids), Identity.type == IdentityType.agent.value)
        .order_by(Participant.thread_id, Participant.identity_id))
    for row in rows:
        found[row.thread_id].append(row.identity_id)
    return found


async def is_participant(session: AsyncSession, thread_id: uuid.UUID, identity_id: uuid.UUID) -> bool:
    return await session.get(Participant, (thread_id, identity_id)) is not None


async def threads_of(session: AsyncSession, identity_id: uuid.UUID,
                     page: PageRequest) -> tuple[list[Thread], str | None]:
    """The threads an identity takes part in, oldest first."""
    statement = (select(Thread).select_from(Participant).join(Thread, Thread.id == Participant.thread_id)
                 .where(Participant.identity_id == identity_id))
    if page.after is not None:
        statement = statement.where(Participant.thread_id > page.after)
    return await _page(session, statement.order_by(Participant.thread_id), page.size, lambda t: t.id)


async def messages_of(session: AsyncSession, thread_id: uuid.UUID,
                      page: PageRequest) -> tuple[list[Message], str | None]:
    """A thread's messages, oldest first."""
    statement = select(Message).where(Message.thread_id == thread_id)
    if page.after is not None:
        statement = statement.where(Message.id > page.after)
    return await _page(session, statement.order_by(Message.id), page.size, lambda m: m.id)


async def sent_with_key(session: AsyncSession, thread_id: uuid.UUID, sender_id: uuid.UUID,
                        idempotency_key: str) -> Message | None:
    """The sender's message in the thread sent with this Idempotency-Key, if there is one."""
    return await session.scalar(select(Message).where(Message.thread_id == thread_id, Message.sender_id == sender_id,
                                                      Message.idempotency_key == idempotency_key))


async def unacked_for(session: AsyncSession, identity_id: uuid.UUID, thread_id: uuid.UUID | None,
                      page: PageRequest) -> tuple[list[Message], str | None]:
    """The messages an identity has not acknowledged (in one thread, or in all), oldest first."""
    statement = (select(Message).join(Recipient, Recipient.message_id == Message.id)
                 .where(Recipient.participant_id == identity_id, Recipient.acked_at.is_(None)))
    if thread_id is not None:
        statement = statement.where(Recipient.thread_id == thread_id)
    if page.after is not None:
        statement = statement.where(Recipient.message_id > page.after)
    return await _page(session, statement.order_by(Recipient.message_id), page.size, lambda m: m.id)


async def unacked_counts(session: AsyncSession, identity_id: uuid.UUID,
                         thread_ids: Collection[uuid.UUID] | None = None) -> dict[uuid.UUID, int]:
    """How many messages an identity has not acknowledged, per thread (threads with none are absent)."""
    statement = (select(Recipient.thread_id, func.count())
                 .where(Recipient.participant_id == identity_id, Recipient.acked_at.is_(None))
                 .group_by(Recipient.thread_id))
    if thread_ids is not None:
        if not thread_ids:
            return {}
        statement = statement.where(Recipient.thread_id.in_(thread_ids))
    return {row[0]: row[1] for row in await session.execute(statement)}


async def ack_messages(session: AsyncSession, identity_id: uuid.UUID, message_ids: Collection[uuid.UUID],
                       thread_id: uuid.UUID | None = None) -> int:
    """Acknowledge these messages for this identity only (in one thread, when given); those already
    acknowledged, or not sent to it, are left alone. Returns how many were newly acknowledged."""
    statement = (update(Recipient)
                 .where(Recipient.participant_id == identity_id, Recipient.acked_at.is_(None),
                        Recipient.message_id.in_(message_ids)))
    if thread_id is not None:
        statement = statement.where(Recipient.thread_id == thread_id)
    result = await session.execute(statement.values(acked_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


async def ack_thread(session: AsyncSession, identity_id: uuid.UUID, thread_id: uuid.UUID) -> int:
    """Acknowledge everything sent to this identity in one thread."""
    result = await session.execute(
        update(Recipient)
        .where(Recipient.participant_id == identity_id, Recipient.acked_at.is_(None),
               Recipient.thread_id == thread_id)
        .values(acked_at=utcnow()).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Ends:
    """A thread's first and last messages."""

    first: Message
    last: Message


async def first_and_last_messages(session: AsyncSession, thread_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, Ends]:
    """Each thread's first and last message, for threads that have any (one query; the ends are found
    on the (thread_id, id) index without reading the other messages' rows)."""
    if not thread_ids:
        return {}

    def end(order: Any) -> Any:  # a thread's first or last message id: one index probe each
        return (select(Message.id).where(Message.thread_id == Thread.id).order_by(order).limit(1)
                .correlate(Thread).scalar_subquery())

    in_threads = Thread.id.in_(thread_ids)
    ends = union(select(end(Message.id.asc())).where(in_threads),
                 select(end(Message.id.desc())).where(in_threads)).subquery()
    rows = (await session.scalars(select(Message).where(Message.id.in_(select(ends.c[0])))
                                  .order_by(Message.id))).all()
    by_thread: dict[uuid.UUID, list[Message]] = defaultdict(list)
    for message in rows:
        by_thread[message.thread_id].append(message)
    return {thread_id: Ends(messages[0], messages[-1]) for thread_id, messages in by_thread.items()}


@dataclass(frozen=True)
class Pair:
    thread_id: uuid.UUID
    agent_id: uuid.UUID


async def pairs_with_unacked(session: AsyncSession, thread_ids: Collection[uuid.UUID] | None = None) -> list[Pair]:
    """The (thread, agent) pairs where an agent has unacknowledged messages on an active thread (of
    these threads, when given): the orchestrator's desired state (one workload per pair). Degraded
    threads are left alone (their agents failed to start too often) and so are archived ones (nothing
    can be sent to them)."""
    statement = (select(Recipient.thread_id, Recipient.participant_id).distinct()
                 .join(Thread, and_(Thread.id == Recipient.thread_id, Thread.status == "active"))
                 .join(Identity, and_(Identity.id == Recipient.participant_id,
                                      Identity.type == IdentityType.agent.value))
                 .where(Recipient.acked_at.is_(None)))
    if thread_ids is not None:
        statement = statement.where(Recipient.thread_id.in_(thread_ids))
    rows = await session.execute(statement.order_by(Recipient.thread_id, Recipient.participant_id))
    return [Pair(row.thread_id, row.participant_id) for row in rows]


def recipients(participants: Sequence[uuid.UUID], sender_id: uuid.UUID) -> list[uuid.UUID]:
    """Who a message goes to: every participant but its sender."""
    return [identity_id for identity_id in participants if identity_id != sender_id]
