"""A conversation's activity status: what its agents are doing, derived from their workloads.

Per agent, its latest workload on the thread contributes (the table below); the conversation shows
the strongest contribution (`running` > `pending` > `finished`), and nothing (`None`) when no agent
takes part or the thread is degraded.

`latest_workloads` is the one place that reads workloads: one query for all the (thread, agent) pairs
of a page.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.runners import repository as runners_repository
from agyn.threads.repository import Pair

ActivityStatus = Literal["running", "pending", "finished"]
_STRENGTH: dict[ActivityStatus, int] = {"finished": 0, "pending": 1, "running": 2}


@dataclass(frozen=True)
class LatestWorkload:
    """The most recent workload of one agent on one thread."""

    status: Literal["starting", "running", "stopping", "stopped", "failed"]
    agent_state: Literal["processing", "idle"] | None = None
    retries_remain: bool = True
    """For a failed workload: whether the orchestrator will start another."""


def contribution(latest: LatestWorkload | None) -> ActivityStatus:
    """One agent's part in its conversation's activity status."""
    if latest is None or latest.status == "stopped":
        return "finished"
    if latest.status == "running":
        return "running" if latest.agent_state == "processing" else "finished"
    if latest.status == "failed":
        return "pending" if latest.retries_remain else "finished"
    return "pending"  # starting, stopping


def strongest(statuses: Sequence[ActivityStatus]) -> ActivityStatus | None:
    if not statuses:
        return None
    return max(statuses, key=lambda status: _STRENGTH[status])


async def latest_workloads(session: AsyncSession, pairs: Collection[Pair]) -> dict[Pair, LatestWorkload]:
    """Each pair's most recent workload. A failed one is retried while its thread is not degraded
    (degraded threads show no activity at all)."""
    found = await runners_repository.latest_of(session, pairs)
    return {pair: LatestWorkload(status=w.status, agent_state=w.agent_state,  # type: ignore[arg-type]
                                 retries_remain=True) for pair, w in found.items()}


async def activity_statuses(session: AsyncSession, agents: Mapping[uuid.UUID, Sequence[uuid.UUID]],
                            degraded: Collection[uuid.UUID]) -> dict[uuid.UUID, ActivityStatus | None]:
    """The activity status of each thread in `agents` (thread id → its agent participants)."""
    pairs = [Pair(thread_id, agent_id) for thread_id, ids in agents.items() if thread_id not in degraded
             for agent_id in ids]
    latest = await latest_workloads(session, pairs) if pairs else {}
    return {thread_id: None if thread_id in degraded else
            strongest([contribution(latest.get(Pair(thread_id, agent_id))) for agent_id in ids])
            for thread_id, ids in agents.items()}
