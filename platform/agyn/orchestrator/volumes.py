"""The volumes' data a full pass weighs against their TTL: each (volume, thread) on its runner whose volume
has a `ttl`, with when the thread last had a workload."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.agents.models import Volume
from agyn.kit.durations import parse_duration
from agyn.orchestrator.reconciler import VolumeView
from agyn.runners.models import VolumeInstance, Workload


async def volumes_with_ttl(session: AsyncSession) -> list[VolumeView]:
    """One query: the thread's last workload end (or last change, for one still live) is a correlated
    maximum over the thread's workloads (indexed by thread)."""
    last_used = (select(func.max(func.coalesce(Workload.finished_at, Workload.updated_at)))
                 .where(Workload.thread_id == VolumeInstance.thread_id).scalar_subquery())
    rows = await session.execute(
        select(VolumeInstance.volume_id, VolumeInstance.thread_id, VolumeInstance.runner_id,
               VolumeInstance.created_at, Volume.ttl, last_used)
        .join(Volume, Volume.id == VolumeInstance.volume_id).where(Volume.ttl.is_not(None)))
    return [VolumeView(volume_id, thread_id, runner_id, timedelta(microseconds=parse_duration(ttl) // 1000),
                       last or created_at)
            for volume_id, thread_id, runner_id, created_at, ttl, last in rows]


async def forget_volume(session: AsyncSession, volume: VolumeView) -> None:
    """The runner removed it: the thread is no longer held to that runner by it."""
    await session.execute(delete(VolumeInstance).where(
        VolumeInstance.volume_id == volume.volume_id, VolumeInstance.thread_id == volume.thread_id))
