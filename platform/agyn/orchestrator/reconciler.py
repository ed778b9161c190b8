"""What the orchestrator does, decided from what is: a pure step from the world (desired pairs,
workloads and what their runners report, agents, runners, each pair's history) to decisions, each
with its reason. `loop.py` says when it runs; `service.py` gathers the world and applies decisions.

- A pair with unacked messages and no live workload gets one, on an eligible runner (the thread's
  volumes' runner when it has any) — unless its last starts failed: then it waits 10 s, 30 s, 1 min,
  5 min, 15 min after the last failure (at once when the agent changed since), and after ten failures
  in a row its thread is degraded.
- A live workload follows what its runner reports: running (once its runtime touched it, or after the
  startup grace), exited (stopped with code 0, else failed: `start_failed` before it was running,
  `crashloop` after), failed as the runner saw it (an image that cannot be pulled, say), gone
  (`start_failed` before it was running, `runtime_lost` after), ended by a runner restart (stopped).
- What a runner has that no live workload is (a Pod left from a failed workload, say) is removed.
- A live workload is stopped when idle longer than its agent's `idle_timeout`, or when it is an orphan
  (its agent is gone, its thread archived or degraded).
- A volume's data for a thread is removed from its runner once the thread has had no workload for the
  volume's `ttl` (and none is wanted: no messages wait); the thread is then free to run anywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from agyn.runners.runtime import ContainerState, Observed
from agyn.threads.repository import Pair

BACKOFF = (timedelta(seconds=10), timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=5),
           timedelta(minutes=15))
MAX_FAILURES = 10
STARTUP_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class AgentView:
    id: uuid.UUID
    organization_id: uuid.UUID
    idle_timeout: timedelta
    runner_labels: Mapping[str, str]
    capabilities: Sequence[str]
    updated_at: datetime


@dataclass(frozen=True)
class RunnerView:
    id: uuid.UUID
    organization_id: uuid.UUID | None
    labels: Mapping[str, str]
    capabilities: Sequence[str]
    available: bool
    load: int = 0


@dataclass(frozen=True)
class WorkloadView:
    id: uuid.UUID
    thread_id: uuid.UUID
    agent_id: uuid.UUID
    runner_id: uuid.UUID
    status: str
    agent_state: str | None
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime | None
    containers: tuple[dict[str, Any], ...] = ()

    @property
    def pair(self) -> Pair:
        return Pair(self.thread_id, self.agent_id)


@dataclass(frozen=True)
class History:
    """A pair's recent failures: how many in a row, when the last ended, and the agent it ran."""

    consecutive: int = 0
    last_finished_at: datetime | None = None
    last_agent_version: datetime | None = None


@dataclass(frozen=True)
class VolumeView:
    """A volume's data for one thread, on a runner, whose volume has a TTL."""

    volume_id: uuid.UUID
    thread_id: uuid.UUID
    runner_id: uuid.UUID
    ttl: timedelta
    last_used_at: datetime
    """When the thread's last workload ended (or last changed, while one is live); when the data was made, if
    the thread never had one."""


@dataclass(frozen=True)
class World:
    now: datetime
    desired: Sequence[Pair]
    active: Sequence[WorkloadView]
    observed: Mapping[uuid.UUID, Observed]
    agents: Mapping[uuid.UUID, AgentView]
    runners: Sequence[RunnerView]
    history: Mapping[Pair, History]
    open_threads: frozenset[uuid.UUID]
    """Threads of the active workloads that are still active (not archived, not degraded)."""
    volume_runners: Mapping[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    lost_after: timedelta = timedelta(seconds=60)
    listed: Mapping[uuid.UUID, Sequence[uuid.UUID]] = field(default_factory=dict)
    """Per runner, the workloads it has (a pass over every pair only: a hinted one sees some workloads)."""
    volumes: Sequence[VolumeView] = ()
    """Volumes' data under a TTL (a pass over every pair only)."""


@dataclass(frozen=True)
class Observe:
    """Record what the runner reports about a workload."""

    workload_id: uuid.UUID
    status: Literal["starting", "running", "stopped", "failed"]
    reason: str
    failure_reason: str | None = None
    containers: tuple[ContainerState, ...] = ()
    containers_only: bool = False
    """Only the containers changed: the status stays whatever it is by then (a touch may have moved it)."""
    kind: Literal["observe"] = "observe"


@dataclass(frozen=True)
class Start:
    pair: Pair
    runner_id: uuid.UUID
    reason: str
    kind: Literal["start"] = "start"


@dataclass(frozen=True)
class Stop:
    workload_id: uuid.UUID
    reason: str
    kind: Literal["stop"] = "stop"


@dataclass(frozen=True)
class RemoveOrphan:
    """A runner has a workload that is not live (its record ended, or never was): remove it there."""

    runner_id: uuid.UUID
    workload_id: uuid.UUID
    reason: str
    kind: Literal["orphan"] = "orphan"


@dataclass(frozen=True)
class Degrade:
    pair: Pair
    reason: str
    kind: Literal["degrade"] = "degrade"


@dataclass(frozen=True)
class Wait:
    pair: Pair
    until: datetime | None
    reason: str
    kind: Literal["wait"] = "wait"


@dataclass(frozen=True)
class RemoveVolume:
    """A volume's data for a thread outlived its TTL: remove it from its runner."""

    volume: VolumeView
    reason: str
    kind: Literal["remove_volume"] = "remove_volume"


Decision = Observe | Start | Stop | RemoveOrphan | Degrade | Wait | RemoveVolume


def _observe(workload: WorkloadView, observed: Observed | None, world: World) -> Observe | None:
    if workload.status == "stopping":  # whatever ends it now, it was being stopped
        if observed is not None and observed.status in ("exited", "lost", "reaped"):
            return Observe(workload.id, "stopped", "its processes ended while it was being stopped",
                           containers=observed.containers)
        if observed is None and workload.updated_at + world.lost_after <= world.now:
            return Observe(workload.id, "stopped", "its runner has been silent since it was asked to stop it")
        return None
    if observed is None:
        if workload.status in ("starting", "running") and workload.updated_at + world.lost_after <= world.now:
            return Observe(workload.id, "failed", "its runner has not reported it for "
                           f"{int(world.lost_after.total_seconds())}s", "runtime_lost")
        return None
    containers = observed.containers
    if observed.status == "running" and workload.status == "starting":
        # ready when the runtime first touches it (TouchWorkload); one that never does, once it has
        # stayed up through the startup grace
        if workload.created_at + STARTUP_GRACE <= world.now:
            return Observe(workload.id, "running", f"its runtime process has run for "
                           f"{int(STARTUP_GRACE.total_seconds())}s", containers=containers)
    if observed.status == "exited":
        if observed.exit_code == 0:
            return Observe(workload.id, "stopped", "its runtime exited with code 0", containers=containers)
        before = workload.status == "starting"
        reason = observed.message or f"its runtime exited with code {observed.exit_code}" + \
            (" before it ran" if before else " while it ran")
        return Observe(workload.id, "failed", reason, "start_failed" if before else "crashloop", containers)
    if observed.status == "failed":
        return Observe(workload.id, "failed", observed.message or "its runner saw it cannot run",
                       observed.failure_reason or "start_failed", containers)
    if observed.status == "lost":
        return Observe(workload.id, "failed", observed.message or "its runner does not know it (its processes are "
                       "gone)", "start_failed" if workload.status == "starting" else "runtime_lost", containers)
    if observed.status == "reaped":
        return Observe(workload.id, "stopped", "its runner restarted and ended the processes it had left",
                       containers=containers)
    if containers and workload.status in ("starting", "running") and \
            [c.to_json() for c in containers] != list(workload.containers):
        return Observe(workload.id, workload.status, "its containers changed",  # type: ignore[arg-type]
                       containers=containers, containers_only=True)
    return None


def eligible(agent: AgentView, runner: RunnerView) -> bool:
    return (runner.organization_id is None or runner.organization_id == agent.organization_id) and \
        all(runner.labels.get(k) == v for k, v in agent.runner_labels.items()) and \
        set(agent.capabilities) <= set(runner.capabilities)


def choose_runner(agent: AgentView, runners: Sequence[RunnerView], pinned: uuid.UUID | None) -> RunnerView | None:
    """The organization's own runners first, then the least loaded."""
    candidates = [r for r in runners if r.available and eligible(agent, r) and (pinned is None or r.id == pinned)]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.organization_id is None, r.load, str(r.id)))


def decide(world: World) -> list[Decision]:
    decisions: list[Decision] = []
    history = dict(world.history)
    live: set[Pair] = set()
    for workload in world.active:
        observed = _observe(workload, world.observed.get(workload.id), world)
        status = workload.status
        if observed is not None:
            decisions.append(observed)
            status = observed.status
            if observed.status == "failed":
                before = history.get(workload.pair, History())
                history[workload.pair] = History(before.consecutive + 1, world.now,
                                                 world.agents[workload.agent_id].updated_at
                                                 if workload.agent_id in world.agents else None)
            elif observed.status == "stopped":
                history[workload.pair] = History()
        if status == "stopping":
            decisions.append(Stop(workload.id, "it is being stopped"))
            live.add(workload.pair)
            continue
        if status not in ("starting", "running"):
            continue
        live.add(workload.pair)
        agent = world.agents.get(workload.agent_id)
        if agent is None:
            decisions.append(Stop(workload.id, "orphan: its agent no longer exists"))
        elif workload.thread_id not in world.open_threads:
            decisions.append(Stop(workload.id, "orphan: its thread is archived or degraded"))
        elif workload.agent_state != "processing" and status == "running" and \
                (workload.last_activity_at or workload.created_at) + agent.idle_timeout <= world.now:
            decisions.append(Stop(workload.id, f"idle for longer than its agent's idle_timeout "
                                               f"({int(agent.idle_timeout.total_seconds())}s)"))
    known = {w.id for w in world.active}
    for runner_id, workload_ids in world.listed.items():
        decisions.extend(RemoveOrphan(runner_id, w, "orphan: its runner has it, but it is not a live workload")
                         for w in workload_ids if w not in known)
    load = {r.id: r.load for r in world.runners}
    for pair in world.desired:
        if pair in live:
            continue
        agent = world.agents.get(pair.agent_id)
        if agent is None:
            continue
        past = history.get(pair, History())
        if past.consecutive >= MAX_FAILURES:
            decisions.append(Degrade(pair, f"its agent failed to start {past.consecutive} times in a row"))
            continue
        if past.consecutive and past.last_finished_at is not None:
            changed = past.last_agent_version is not None and agent.updated_at > past.last_agent_version
            until = past.last_finished_at + BACKOFF[min(past.consecutive, len(BACKOFF)) - 1]
            if not changed and world.now < until:
                decisions.append(Wait(pair, until, f"backing off after {past.consecutive} failure(s) in a row"))
                continue
        runners = [replace(r, load=load[r.id]) for r in world.runners]
        runner = choose_runner(agent, runners, world.volume_runners.get(pair.thread_id))
        if runner is None:
            pinned = world.volume_runners.get(pair.thread_id)
            decisions.append(Wait(pair, None, "no eligible runner is available" +
                                  (f" (its thread's volumes are on runner {pinned})" if pinned else "")))
            continue
        load[runner.id] += 1
        retry = " (the agent changed since its last failure)" if past.consecutive else ""
        decisions.append(Start(pair, runner.id, f"unacked messages and no live workload{retry}"))
    wanted = {pair.thread_id for pair in world.desired} | {w.thread_id for w in world.active}
    decisions.extend(RemoveVolume(v, f"its thread has had no workload for longer than the volume's ttl "
                                     f"({int(v.ttl.total_seconds())}s)")
                     for v in world.volumes if v.thread_id not in wanted and v.last_used_at + v.ttl <= world.now)
    return decisions
