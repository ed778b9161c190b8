"""One reconcile pass: gather the world (one read transaction and the runners' reports), decide
(`reconciler.decide`, pure), apply each decision with its reason in the log."""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.agents.models import Agent
from agyn.chat.service import conversation_room
from agyn.identity.models import Identity
from agyn.kit.durations import parse_duration
from agyn.kit.platform import Platform
from agyn.kit.principal import IdentityType, Principal
from agyn.metering.service import record_usage
from agyn.orchestrator import metering
from agyn.orchestrator.reconciler import (
    AgentView,
    Decision,
    Degrade,
    History,
    Observe,
    RemoveOrphan,
    RemoveVolume,
    RunnerView,
    Start,
    Stop,
    Wait,
    WorkloadView,
    World,
    decide,
)
from agyn.orchestrator.spec import ConfigInvalid, attached_volumes, build_spec
from agyn.orchestrator.volumes import forget_volume, volumes_with_ttl
from agyn.runners import repository
from agyn.runners.local import LocalRuntime
from agyn.runners.models import ACTIVE, Runner, Workload
from agyn.runners.runtime import Observed, StartFailed
from agyn.runners.workloads import WorkloadsService, publish_workload
from agyn.settings import Settings
from agyn.threads import repository as threads_repository
from agyn.threads.models import Thread
from agyn.threads.repository import Pair
from agyn.threads.schemas import MessageCreate
from agyn.threads.service import ThreadsService, participant_room
from agyn.users import workload_tokens

log = logging.getLogger("agyn.orchestrator")

PLATFORM_IDENTITY = uuid.UUID("00000000-0000-0000-0000-0000000000a1")
"""The platform's own identity: the sender of its messages (a degraded thread's notice)."""
LOCAL_RUNNER = "local"
KUBERNETES_RUNNER = "kubernetes"
"""The embedded runner's name when it runs workloads as Pods (`AGYN_RUNNER__KIND=kubernetes`)."""


@dataclass
class Report:
    """What one pass did."""

    decisions: Counter[str] = field(default_factory=Counter)
    next_at: datetime | None = None
    """The earliest backoff deadline: the loop wakes then even without an event."""
    seconds: float = 0.0
    started: list[uuid.UUID] = field(default_factory=list)


class Orchestrator:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.settings = platform.get(Settings)
        self.workloads = platform.get(WorkloadsService)
        self.threads = platform.get(ThreadsService)
        self.token_ttl = timedelta(seconds=self.settings.orchestrator.token_ttl_seconds)
        self.lost_after = timedelta(seconds=self.settings.orchestrator.runner_offline_seconds)
        self.local_runner_id: uuid.UUID | None = None

    @property
    def platform_url(self) -> str:
        configured = self.settings.runner.platform_url
        return configured or f"http://{self.settings.host}:{self.settings.port}"

    # --- one pass -------------------------------------------------------------------------------

    async def reconcile_once(self, thread_ids: set[uuid.UUID] | None = None) -> Report:
        """One pass over every pair, or over these threads' pairs only (a message's hint: the start it
        calls for does not wait for a pass over the whole world)."""
        began = time.perf_counter()
        gathered = await self.gather(thread_ids)
        if gathered is None:
            return Report(seconds=time.perf_counter() - began)
        world, rows, agents = gathered
        decisions = decide(world)
        report = Report()
        for decision in decisions:
            report.decisions[decision.kind] += 1
            if isinstance(decision, Wait) and decision.until is not None:
                report.next_at = decision.until if report.next_at is None else min(report.next_at, decision.until)
        await self.apply(decisions, rows, agents, report)
        report.seconds = time.perf_counter() - began
        return report

    async def gather(self, thread_ids: set[uuid.UUID] | None = None
                     ) -> tuple[World, dict[uuid.UUID, Workload], dict[uuid.UUID, Any]] | None:
        """What a pass decides on; None for a hinted pass with nothing to decide: every pair with messages
        waiting already has a running workload, which pulls them itself. Whatever else could change for
        those workloads (an exit, an agent's update, a runner's report, idleness) wakes a full pass or
        waits for the tick, so a message to a busy conversation costs two queries, not a pass."""
        now = self.platform.clock.now()
        full = thread_ids is None
        async with self.platform.database.transaction() as session:
            desired = await threads_repository.pairs_with_unacked(session, thread_ids)
            active = await repository.active_workloads(session, thread_ids)
            if not full and set(desired) <= {Pair(w.thread_id, w.agent_id) for w in active if w.status == "running"}:
                return None
            pairs = set(desired)
            history_rows = await repository.history_of(session, pairs - {Pair(w.thread_id, w.agent_id)
                                                                         for w in active})
            agent_ids = {p.agent_id for p in desired} | {w.agent_id for w in active}
            agents = {a.id: a for a in (await session.scalars(select(Agent).where(Agent.id.in_(agent_ids)))).all()} \
                if agent_ids else {}
            runners = (await session.scalars(select(Runner))).all()
            presence = await repository.presence_of(session, [r.id for r in runners])
            thread_ids = {w.thread_id for w in active}
            open_threads = frozenset((await session.scalars(select(Thread.id).where(
                Thread.id.in_(thread_ids), Thread.status == "active"))).all()) if thread_ids else frozenset()
            volume_runners = await repository.volume_runners(session, {p.thread_id for p in desired})
            volumes = await volumes_with_ttl(session) if full else []
        window = now - self.lost_after
        observed: dict[uuid.UUID, Observed] = {}
        for workload in active:
            runtime = self.workloads.runtimes.get(workload.runner_id)
            silent = workload.runner_id != self.local_runner_id and (
                workload.runner_id not in presence or presence[workload.runner_id].last_seen_at <= window)
            if runtime is not None and not silent:  # an offline runner's last report is stale
                observed[workload.id] = await runtime.inspect(workload.id)
        # in a pass over every pair, what each reachable runner has (its orphans are removed)
        listed: dict[uuid.UUID, list[uuid.UUID]] = {}
        for runner in runners if full else ():
            runtime = self.workloads.runtimes.get(runner.id)
            if runtime is not None and (runner.id == self.local_runner_id or
                                        (runner.id in presence and presence[runner.id].last_seen_at > window)):
                listed[runner.id] = await runtime.list()
        load = Counter(w.runner_id for w in active) if full else await self._load()
        world = World(
            now=now, desired=desired,
            active=[WorkloadView(w.id, w.thread_id, w.agent_id, w.runner_id, w.status, w.agent_state, w.created_at,
                                 w.updated_at, w.last_activity_at, tuple(w.containers or ())) for w in active],
            observed=observed,
            agents={a.id: AgentView(a.id, a.organization_id, timedelta(seconds=parse_duration(a.idle_timeout) / 1e9),
                                    a.runner_labels or {}, a.capabilities or [], a.updated_at)
                    for a in agents.values()},
            runners=[RunnerView(r.id, r.organization_id, r.labels or {}, r.capabilities or [],
                                available=r.id in self.workloads.runtimes and (
                                    r.id == self.local_runner_id or
                                    (r.id in presence and presence[r.id].last_seen_at > window)),
                                load=load[r.id]) for r in runners],
            history={pair: _history(rows) for pair, rows in history_rows.items()},
            open_threads=open_threads, volume_runners=volume_runners, lost_after=self.lost_after, listed=listed,
            volumes=volumes)
        return world, {w.id: w for w in active}, agents

    async def _load(self) -> Counter[uuid.UUID]:
        """Active workloads per runner (a hinted pass sees only its threads' own)."""
        async with self.platform.database.transaction() as session:
            rows = await session.execute(select(Workload.runner_id, func.count()).where(Workload.status.in_(ACTIVE))
                                         .group_by(Workload.runner_id))
            return Counter({row[0]: int(row[1]) for row in rows})

    # --- applying decisions -------------------------------------------------------------------

    async def apply(self, decisions: list[Decision], rows: dict[uuid.UUID, Workload], agents: dict[uuid.UUID, Any],
                    report: Report) -> None:
        for decision in decisions:
            log.info("orchestrator decision: %s", decision.kind, extra=_describe(decision))
            try:
                if isinstance(decision, Observe):
                    await self.observe(decision, rows[decision.workload_id], agents)
                elif isinstance(decision, Stop):
                    await self.stop(rows[decision.workload_id], decision.reason, agents)
                elif isinstance(decision, RemoveOrphan):
                    runtime = self.workloads.runtimes.get(decision.runner_id)
                    if runtime is not None:
                        await runtime.stop(decision.workload_id)
                elif isinstance(decision, Start):
                    workload = await self.start(decision, agents[decision.pair.agent_id])
                    if workload is not None:
                        report.started.append(workload)
                elif isinstance(decision, Degrade):
                    await self.degrade(decision)
                elif isinstance(decision, RemoveVolume):
                    await self.remove_volume(decision)
            except Exception:
                log.exception("an orchestrator decision failed; the next pass tries again", extra=_describe(decision))
        await self.meter(rows, agents)

    async def observe(self, decision: Observe, workload: Workload, agents: dict[uuid.UUID, Any]) -> None:
        now = self.platform.clock.now()
        async with self.platform.database.transaction() as session:
            row = await session.get(Workload, workload.id)
            if row is None or row.status not in ("starting", "running", "stopping"):
                return
            if decision.containers:
                row.containers = [c.to_json() for c in decision.containers]
            if decision.containers_only or (row.status == "stopping" and decision.status == "running"):
                return  # what the pass saw is older than what happened since (a touch, a stop)
            row.status, row.updated_at = decision.status, now
            if decision.status == "running":
                row.started_at = row.started_at or now
            elif decision.status != "starting":
                row.finished_at = now
                row.failure_reason = decision.failure_reason
                row.failure_message = decision.reason if decision.status == "failed" else None
                await self._finish(session, row, agents)
            publish_workload(self.platform, session, row)
        if decision.status in ("stopped", "failed"):
            await self._release(workload)

    async def stop(self, workload: Workload, reason: str, agents: dict[uuid.UUID, Any]) -> None:
        async with self.platform.database.transaction() as session:
            row = await session.get(Workload, workload.id)
            if row is None or row.status not in ("starting", "running", "stopping"):
                return
            if row.status != "stopping":
                row.status, row.updated_at = "stopping", self.platform.clock.now()
                publish_workload(self.platform, session, row)
        runtime = self.workloads.runtimes.get(workload.runner_id)
        if runtime is None:
            return  # a remote runner gets it from its channel and reports it stopped
        observed = await runtime.inspect(workload.id)
        await runtime.stop(workload.id)
        now = self.platform.clock.now()
        async with self.platform.database.transaction() as session:
            row = await session.get(Workload, workload.id)
            if row is None or row.status != "stopping":
                return
            row.status, row.updated_at, row.finished_at, row.removed_at = "stopped", now, now, now
            if observed.containers:
                row.containers = [c.to_json() for c in observed.containers]
            await self._finish(session, row, agents)
            publish_workload(self.platform, session, row)

    async def start(self, decision: Start, agent: Any) -> uuid.UUID | None:
        now = self.platform.clock.now()
        async with self.platform.database.transaction() as session:
            workload = Workload(runner_id=decision.runner_id, thread_id=decision.pair.thread_id,
                                agent_id=agent.id, organization_id=agent.organization_id, status="starting",
                                containers=[], agent_version=agent.updated_at, created_at=now, updated_at=now,
                                last_activity_at=now)
            session.add(workload)
            await session.flush()
            volumes = await attached_volumes(session, agent.id)
            await repository.ensure_volume_instances(session, workload.thread_id, decision.runner_id,
                                                     [v.id for v in volumes], now)
            publish_workload(self.platform, session, workload)
        runtime = self.workloads.runtimes.get(decision.runner_id)
        if runtime is None:
            return workload.id
        try:
            async with self.platform.database.transaction() as session:
                spec = await build_spec(session, self.platform, workload, platform_url=self.platform_url,
                                        runtime_command=self.settings.runner.runtime_command,
                                        token_ttl=self.token_ttl)
        except ConfigInvalid as error:
            await self._fail(workload, "config_invalid", str(error))
            return workload.id
        try:
            await runtime.start(spec)
        except StartFailed as error:
            await self._fail(workload, "start_failed", error.message)
        return workload.id

    async def _fail(self, workload: Workload, reason: str, message: str) -> None:
        log.info("workload failed", extra={"workload_id": str(workload.id), "failure_reason": reason,
                                           "reason": message})
        now = self.platform.clock.now()
        async with self.platform.database.transaction() as session:
            row = await session.get(Workload, workload.id)
            if row is None:
                return
            row.status, row.failure_reason, row.failure_message = "failed", reason, message
            row.updated_at = row.finished_at = now
            await workload_tokens.revoke(session, self.platform, row.id)
            publish_workload(self.platform, session, row)

    async def _finish(self, session: AsyncSession, row: Workload, agents: dict[uuid.UUID, Any]) -> None:
        """A workload ended: its token stops working and its last compute interval is metered."""
        await workload_tokens.revoke(session, self.platform, row.id)
        agent = agents.get(row.agent_id)
        record = metering.interval(row, self.platform.clock.now(), metering.cores(agent.resources if agent else None),
                                   final=True)
        if record is not None:
            record_usage(self.platform, record)

    async def _release(self, workload: Workload) -> None:
        """The runtime ended by itself: what is left of the workload (its MCP servers) goes too."""
        runtime = self.workloads.runtimes.get(workload.runner_id)
        if runtime is not None:
            await runtime.stop(workload.id)

    async def remove_volume(self, decision: RemoveVolume) -> None:
        """Removed on its runner first, then forgotten: a removal that fails (or that a remote runner has yet to
        confirm) is asked for again by the next full pass. A runner deleted since leaves nothing to remove; one
        not connected to this process (a remote runner away) is asked once it is."""
        volume = decision.volume
        runtime = self.workloads.runtimes.get(volume.runner_id)
        if runtime is not None and not await runtime.remove_volume(volume.volume_id, volume.thread_id):
            return
        async with self.platform.database.transaction() as session:
            if runtime is None and await session.get(Runner, volume.runner_id) is not None:
                return
            await forget_volume(session, volume)

    async def degrade(self, decision: Degrade) -> None:
        """Ten failed starts in a row: the thread is degraded and its participants are told, in the thread
        and through `conversation.updated`."""
        thread_id = decision.pair.thread_id
        async with self.platform.database.transaction() as session:
            thread = await session.get(Thread, thread_id)
            if thread is None or thread.status != "active":
                return
            await self._ensure_platform_identity(session)
            notice = (f"The agent {decision.pair.agent_id} could not be started ({decision.reason}); this "
                      "conversation is degraded and accepts no new messages. Start a new one after fixing the "
                      "agent's configuration.")
            await self.threads.send(session, Principal(PLATFORM_IDENTITY, IdentityType.platform), thread,
                                    MessageCreate(body=notice), authorized=True)
            await self.threads.degrade(session, thread_id, decision.reason)
            participants = (await threads_repository.participants_of(session, [thread_id]))[thread_id]
            self.platform.events.publish_after_commit(
                session, "conversation.updated", "orchestrator",
                rooms=(conversation_room(thread_id), *(participant_room(p) for p in participants)),
                conversation_id=str(thread_id), status="degraded")

    async def _ensure_platform_identity(self, session: AsyncSession) -> None:
        if await session.get(Identity, PLATFORM_IDENTITY) is None:
            session.add(Identity(id=PLATFORM_IDENTITY, type=IdentityType.platform.value))
            await session.flush()

    async def meter(self, rows: dict[uuid.UUID, Workload], agents: dict[uuid.UUID, Any]) -> None:
        """Running workloads' compute, one interval at a time."""
        now = self.platform.clock.now()
        due = [w for w in rows.values() if w.status == "running" and
               (w.metered_until or w.started_at or now) + metering.INTERVAL <= now]
        if not due:
            return
        async with self.platform.database.transaction() as session:
            for workload in due:
                row = await session.get(Workload, workload.id)
                if row is None or row.status != "running":
                    continue
                agent = agents.get(row.agent_id)
                record = metering.interval(row, now, metering.cores(agent.resources if agent else None), final=False)
                if record is not None:
                    record_usage(self.platform, record)

    # --- start and stop of the process ------------------------------------------------------------

    async def register_local_runner(self, name: str = LOCAL_RUNNER) -> uuid.UUID:
        """The embedded runner is the cluster runner `local` (or `kubernetes`), registered at first start."""
        async with self.platform.database.transaction() as session:
            runner = await session.scalar(select(Runner).where(Runner.name == name,
                                                               Runner.organization_id.is_(None)))
            if runner is None:
                runner = Runner(name=name, organization_id=None, labels={}, capabilities=[])
                session.add(runner)
                await session.flush()
                session.add(Identity(id=runner.id, type=IdentityType.runner.value))
                await session.flush()
            runner_id: uuid.UUID = runner.id
            self.local_runner_id = runner_id
            return runner_id

    async def stop_local_workloads(self) -> None:
        """This process is stopping (or no longer leads): its local workloads stop with it, recorded as
        stopped so the next leader starts what still has work at once."""
        runtime = self.workloads.runtimes.get(self.local_runner_id) if self.local_runner_id else None
        if not isinstance(runtime, LocalRuntime) or not await runtime.list():
            return  # Pods outlive this process: the next leader's embedded runner finds them
        try:
            async with self.platform.database.transaction() as session:
                local = [w for w in await repository.active_workloads(session)
                         if w.runner_id == self.local_runner_id]
                agents = {a.id: a for a in (await session.scalars(
                    select(Agent).where(Agent.id.in_({w.agent_id for w in local})))).all()} if local else {}
            for workload in local:
                if workload.id in await runtime.list():
                    await self.stop(workload, "the platform is stopping", agents)
        except Exception:
            log.exception("cannot record the local workloads' stop; their processes stop all the same")
        finally:
            for workload_id in await runtime.list():  # whatever the database could not be told about
                await runtime.stop(workload_id)


def _history(rows: list[Workload]) -> History:
    consecutive = 0
    for row in rows:
        if row.status != "failed":
            break
        consecutive += 1
    if not consecutive:
        return History()
    last = rows[0]
    return History(consecutive, last.finished_at or last.updated_at, last.agent_version)


def _describe(decision: Decision) -> dict[str, Any]:
    extra: dict[str, Any] = {"decision": decision.kind, "reason": decision.reason}
    if isinstance(decision, (Observe, Stop, RemoveOrphan)):
        extra["workload_id"] = str(decision.workload_id)
    if isinstance(decision, Observe):
        extra["status"] = decision.status
    if isinstance(decision, (Start, Degrade, Wait)):
        extra["thread_id"], extra["agent_id"] = str(decision.pair.thread_id), str(decision.pair.agent_id)
    if isinstance(decision, Start):
        extra["runner_id"] = str(decision.runner_id)
    if isinstance(decision, RemoveVolume):
        extra["volume_id"], extra["thread_id"] = str(decision.volume.volume_id), str(decision.volume.thread_id)
        extra["runner_id"] = str(decision.volume.runner_id)
    return extra
