"""Queries over workloads, named for what they return (the orchestrator, chat and the API read through
these)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.kit.pagination import PageRequest, encode_page_token
from agyn.runners.models import ACTIVE, RunnerPresence, VolumeInstance, Workload
from agyn.threads.repository import Pair

HISTORY = 11
"""Workloads of a pair read for its history: enough to count ten consecutive failures."""


async def active_workloads(session: AsyncSession, thread_ids: Collection[uuid.UUID] | None = None) -> list[Workload]:
    """Every workload that is starting, running or stopping (on these threads, when given)."""
    statement = select(Workload).where(Workload.status.in_(ACTIVE))
    if thread_ids is not None:
        statement = statement.where(Workload.thread_id.in_(thread_ids))
    return list((await session.scalars(statement.order_by(Workload.id))).all())


async def history_of(session: AsyncSession, pairs: Collection[Pair]) -> dict[Pair, list[Workload]]:
    """Each pair's most recent finished workloads, newest first (one query, at most `HISTORY` each)."""
    if not pairs:
        return {}
    ranked = (select(Workload.id, func.row_number().over(
        partition_by=(Workload.thread_id, Workload.agent_id),
        order_by=(Workload.created_at.desc(), Workload.id.desc())).label("rank"))
        .where(tuple_(Workload.thread_id, Workload.agent_id).in_([(p.thread_id, p.agent_id) for p in pairs]),
               Workload.status.in_(("stopped", "failed")))
        .subquery())
    rows = (await session.scalars(select(Workload).join(ranked, ranked.c.id == Workload.id)
                                  .where(ranked.c.rank <= HISTORY)
                                  .order_by(Workload.created_at.desc(), Workload.id.desc()))).all()
    found: dict[Pair, list[Workload]] = {}
    for workload in rows:
        found.setdefault(Pair(workload.thread_id, workload.agent_id), []).append(workload)
    return found


async def latest_of(session: AsyncSession, pairs: Collection[Pair]) -> dict[Pair, Workload]:
    """Each pair's most recent workload (one query)."""
    if not pairs:
        return {}
    ranked = (select(Workload.id, func.row_number().over(
        partition_by=(Workload.thread_id, Workload.agent_id), order_by=Workload.id.desc()).label("rank"))
        .where(tuple_(Workload.thread_id, Workload.agent_id).in_([(p.thread_id, p.agent_id) for p in pairs]))
        .subquery())
    rows = (await session.scalars(select(Workload).join(ranked, ranked.c.id == Workload.id)
                                  .where(ranked.c.rank == 1))).all()
    return {Pair(w.thread_id, w.agent_id): w for w in rows}


async def volume_runners(session: AsyncSession, thread_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The runner each thread's volumes live on, for threads that have any."""
    if not thread_ids:
        return {}
    rows = await session.execute(select(VolumeInstance.thread_id, VolumeInstance.runner_id)
                                 .where(VolumeInstance.thread_id.in_(thread_ids)))
    return {row.thread_id: row.runner_id for row in rows}


async def ensure_volume_instances(session: AsyncSession, thread_id: uuid.UUID, runner_id: uuid.UUID,
                                  volume_ids: Sequence[uuid.UUID], now: datetime) -> None:
    if not volume_ids:
        return
    existing = set((await session.scalars(select(VolumeInstance.volume_id).where(
        VolumeInstance.thread_id == thread_id, VolumeInstance.volume_id.in_(volume_ids)))).all())
    session.add_all(VolumeInstance(volume_id=v, thread_id=thread_id, runner_id=runner_id, created_at=now)
                    for v in volume_ids if v not in existing)
    await session.flush()


async def workload_organization(session: AsyncSession, workload_id: uuid.UUID) -> uuid.UUID | None:
    return await session.scalar(select(Workload.organization_id).where(Workload.id == workload_id))


def listing(organization_ids: Collection[uuid.UUID] | None, filters: dict[str, Any]) -> Select[Any]:
    """Workloads of these organizations (None: all), filtered, in id order."""
    statement = select(Workload)
    if organization_ids is not None:
        statement = statement.where(Workload.organization_id.in_(organization_ids))
    for name in ("organization_id", "thread_id", "agent_id", "status"):
        if filters.get(name) is not None:
            statement = statement.where(getattr(Workload, name) == filters[name])
    return statement


async def page_of(session: AsyncSession, statement: Select[Any],
                  page: PageRequest) -> tuple[list[Workload], str | None]:
    if page.after is not None:
        statement = statement.where(Workload.id > page.after)
    rows = list((await session.scalars(statement.order_by(Workload.id).limit(page.size + 1))).all())
    if len(rows) > page.size:
        rows = rows[:page.size]
        return rows, encode_page_token(rows[-1].id)
    return rows, None


async def presence_of(session: AsyncSession, runner_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, RunnerPresence]:
    if not runner_ids:
        return {}
    rows = (await session.scalars(select(RunnerPresence).where(RunnerPresence.runner_id.in_(runner_ids)))).all()
    return {row.runner_id: row for row in rows}


async def seen(session: AsyncSession, runner_id: uuid.UUID, now: datetime) -> None:
    """A runner spoke to the platform."""
    presence = await session.get(RunnerPresence, runner_id)
    if presence is None:
        session.add(RunnerPresence(runner_id=runner_id, first_seen_at=now, last_seen_at=now))
    else:
        presence.last_seen_at = now
    await session.flush()



async def count_active(session: AsyncSession, runner_id: uuid.UUID) -> int:
    return int(await session.scalar(select(func.count()).select_from(Workload).where(
        Workload.runner_id == runner_id, Workload.status.in_(ACTIVE))) or 0)
