"""The reconcile step alone: decisions from a world, no database, no processes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from agyn.orchestrator.reconciler import (
    AgentView,
    Degrade,
    History,
    Observe,
    RemoveOrphan,
    RemoveVolume,
    RunnerView,
    Start,
    Stop,
    VolumeView,
    Wait,
    WorkloadView,
    World,
    decide,
)
from agyn.runners.runtime import Observed
from agyn.threads.repository import Pair

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
ORG, OTHER_ORG = uuid.uuid4(), uuid.uuid4()


def agent(**fields: Any) -> AgentView:
    values: dict[str, Any] = {"id": uuid.uuid4(), "organization_id": ORG, "idle_timeout": timedelta(minutes=5),
                              "runner_labels": {}, "capabilities": [], "updated_at": NOW - timedelta(hours=1)}
    return AgentView(**{**values, **fields})


def runner(**fields: Any) -> RunnerView:
    values: dict[str, Any] = {"id": uuid.uuid4(), "organization_id": None, "labels": {}, "capabilities": [],
                              "available": True}
    return RunnerView(**{**values, **fields})


def world(agents: list[AgentView], runners: list[RunnerView], desired: list[Pair], **fields: Any) -> World:
    values: dict[str, Any] = {"now": NOW, "desired": desired, "active": [], "observed": {},
                              "agents": {a.id: a for a in agents}, "runners": runners, "history": {},
                              "open_threads": frozenset(p.thread_id for p in desired)}
    return World(**{**values, **fields})


def test_a_pair_starts_on_an_eligible_runner_preferring_its_organizations() -> None:
    picky = agent(runner_labels={"zone": "eu"}, capabilities=["gpu"])
    pair = Pair(uuid.uuid4(), picky.id)
    cluster = runner(labels={"zone": "eu"}, capabilities=["gpu", "docker"])
    own = runner(organization_id=ORG, labels={"zone": "eu", "tier": "a"}, capabilities=["gpu"])
    others = runner(organization_id=OTHER_ORG, labels={"zone": "eu"}, capabilities=["gpu"])
    wrong_label = runner(labels={"zone": "us"}, capabilities=["gpu"])
    no_gpu = runner(labels={"zone": "eu"})
    offline = runner(organization_id=ORG, labels={"zone": "eu"}, capabilities=["gpu"], available=False)
    [decision] = decide(world([picky], [others, wrong_label, no_gpu, offline, cluster, own], [pair]))
    assert decision == Start(pair, own.id, "unacked messages and no live workload")
    [decision] = decide(world([picky], [others, wrong_label, no_gpu, cluster], [pair]))
    assert isinstance(decision, Start) and decision.runner_id == cluster.id
    [decision] = decide(world([picky], [others, wrong_label, no_gpu], [pair]))
    assert isinstance(decision, Wait) and decision.until is None


def test_a_thread_with_volumes_stays_on_their_runner() -> None:
    someone = agent()
    pair = Pair(uuid.uuid4(), someone.id)
    first, second = runner(), runner()
    [decision] = decide(world([someone], [first, second], [pair], volume_runners={pair.thread_id: second.id}))
    assert isinstance(decision, Start) and decision.runner_id == second.id
    [decision] = decide(world([someone], [first, replace_available(second)], [pair],
                              volume_runners={pair.thread_id: second.id}))
    assert isinstance(decision, Wait) and "volumes" in decision.reason


def replace_available(found: RunnerView) -> RunnerView:
    return RunnerView(found.id, found.organization_id, found.labels, found.capabilities, available=False)


def test_backoff_follows_the_table_and_a_changed_agent_skips_it() -> None:
    someone = agent()
    pair = Pair(uuid.uuid4(), someone.id)
    local = runner()
    for failures, delay in ((1, 10), (2, 30), (3, 60), (4, 300), (5, 900), (9, 900)):
        history = {pair: History(failures, NOW - timedelta(seconds=delay - 1), someone.updated_at)}
        [waiting] = decide(world([someone], [local], [pair], history=history))
        assert isinstance(waiting, Wait) and waiting.until == NOW + timedelta(seconds=1), failures
        history = {pair: History(failures, NOW - timedelta(seconds=delay), someone.updated_at)}
        [started] = decide(world([someone], [local], [pair], history=history))
        assert isinstance(started, Start), failures
    changed = agent(id=someone.id, updated_at=NOW)
    history = {pair: History(3, NOW, someone.updated_at)}
    [started] = decide(world([changed], [local], [pair], history=history))
    assert isinstance(started, Start) and "changed" in started.reason
    [degraded] = decide(world([changed], [local], [pair], history={pair: History(10, NOW, someone.updated_at)}))
    assert isinstance(degraded, Degrade)


def workload(someone: AgentView, pair: Pair, runner_id: uuid.UUID, **fields: Any) -> WorkloadView:
    values: dict[str, Any] = {"id": uuid.uuid4(), "thread_id": pair.thread_id, "agent_id": someone.id,
                              "runner_id": runner_id, "status": "running", "agent_state": "idle",
                              "created_at": NOW - timedelta(hours=1), "updated_at": NOW,
                              "last_activity_at": NOW - timedelta(minutes=1)}
    return WorkloadView(**{**values, **fields})


def test_live_workloads_follow_their_runner_and_stop_when_idle_or_orphaned() -> None:
    someone = agent(idle_timeout=timedelta(minutes=5))
    local = runner()
    pair = Pair(uuid.uuid4(), someone.id)
    busy = workload(someone, pair, local.id, agent_state="processing", last_activity_at=NOW - timedelta(hours=1))
    idle = workload(someone, Pair(uuid.uuid4(), someone.id), local.id, last_activity_at=NOW - timedelta(minutes=5))
    fresh = workload(someone, Pair(uuid.uuid4(), someone.id), local.id)
    orphan = workload(agent(), Pair(uuid.uuid4(), uuid.uuid4()), local.id)
    archived = workload(someone, Pair(uuid.uuid4(), someone.id), local.id)
    crashed = workload(someone, Pair(uuid.uuid4(), someone.id), local.id)
    never_ran = workload(someone, Pair(uuid.uuid4(), someone.id), local.id, status="starting")
    lost = workload(someone, Pair(uuid.uuid4(), someone.id), local.id)
    active = [busy, idle, fresh, orphan, archived, crashed, never_ran, lost]
    observed = {w.id: Observed(w.id, "running") for w in active}
    observed[crashed.id] = Observed(crashed.id, "exited", exit_code=1)
    observed[never_ran.id] = Observed(never_ran.id, "exited", exit_code=2)
    observed[lost.id] = Observed(lost.id, "lost")
    opened = frozenset(w.thread_id for w in active if w is not archived)
    decisions = decide(world([someone], [local], [pair], active=active, observed=observed, open_threads=opened))
    by_workload = {getattr(d, "workload_id", None): d for d in decisions}
    assert busy.id not in by_workload and fresh.id not in by_workload
    assert isinstance(by_workload[idle.id], Stop) and "idle" in by_workload[idle.id].reason
    assert isinstance(by_workload[orphan.id], Stop) and "agent" in by_workload[orphan.id].reason
    assert isinstance(by_workload[archived.id], Stop) and "thread" in by_workload[archived.id].reason
    assert by_workload[crashed.id] == Observe(crashed.id, "failed", "its runtime exited with code 1 while it ran",
                                              "crashloop")
    assert isinstance(by_workload[never_ran.id], Observe) and by_workload[never_ran.id].failure_reason == \
        "start_failed"
    assert isinstance(by_workload[lost.id], Observe) and by_workload[lost.id].failure_reason == "runtime_lost"
    assert not [d for d in decisions if isinstance(d, Start)]  # the desired pair has its busy workload


def test_a_failure_seen_in_this_pass_waits_before_the_retry() -> None:
    someone = agent()
    pair = Pair(uuid.uuid4(), someone.id)
    local = runner()
    failing = workload(someone, pair, local.id, status="starting")
    decisions = decide(world([someone], [local], [pair], active=[failing],
                             observed={failing.id: Observed(failing.id, "exited", exit_code=3)}))
    assert [d.kind for d in decisions] == ["observe", "wait"]


def test_a_workload_being_stopped_is_stopped_whatever_ends_it() -> None:
    someone = agent()
    local = runner()
    stopping = [workload(someone, Pair(uuid.uuid4(), someone.id), local.id, status="stopping") for _ in range(4)]
    silent = workload(someone, Pair(uuid.uuid4(), someone.id), local.id, status="stopping",
                      updated_at=NOW - timedelta(minutes=2))
    observed = {stopping[0].id: Observed(stopping[0].id, "exited", exit_code=-9),
                stopping[1].id: Observed(stopping[1].id, "lost"),
                stopping[2].id: Observed(stopping[2].id, "running")}
    decisions = decide(world([someone], [local], [], active=[*stopping, silent], observed=observed))
    kinds = {(d.workload_id, d.kind, getattr(d, "status", None)) for d in decisions if hasattr(d, "workload_id")}
    assert kinds == {(stopping[0].id, "observe", "stopped"), (stopping[1].id, "observe", "stopped"),
                     (stopping[2].id, "stop", None), (stopping[3].id, "stop", None),
                     (silent.id, "observe", "stopped")}


def test_a_runners_failure_verdict_and_a_workload_gone_before_it_ran_fail_with_their_reasons() -> None:
    someone = agent()
    local = runner()
    pulling = workload(someone, Pair(uuid.uuid4(), someone.id), local.id, status="starting")
    vanished = workload(someone, Pair(uuid.uuid4(), someone.id), local.id, status="starting")
    observed = {pulling.id: Observed(pulling.id, "failed", message="container runtime: ImagePullBackOff",
                                     failure_reason="image_pull_failed"),
                vanished.id: Observed(vanished.id, "lost", message="its Pod is gone")}
    decisions = decide(world([someone], [local], [], active=[pulling, vanished], observed=observed,
                             open_threads=frozenset({pulling.thread_id, vanished.thread_id})))
    by_workload = {getattr(d, "workload_id", None): d for d in decisions}
    assert by_workload[pulling.id] == Observe(pulling.id, "failed", "container runtime: ImagePullBackOff",
                                              "image_pull_failed")
    assert by_workload[vanished.id] == Observe(vanished.id, "failed", "its Pod is gone", "start_failed")


def test_what_a_runner_has_without_a_live_workload_is_removed() -> None:
    someone = agent()
    local = runner()
    live = workload(someone, Pair(uuid.uuid4(), someone.id), local.id)
    stray = uuid.uuid4()
    decisions = decide(world([someone], [local], [], active=[live], observed={live.id: Observed(live.id, "running")},
                             open_threads=frozenset({live.thread_id}), listed={local.id: [live.id, stray]}))
    assert decisions == [RemoveOrphan(local.id, stray, "orphan: its runner has it, but it is not a live workload")]


def test_a_volume_goes_once_its_thread_has_had_no_workload_for_its_ttl() -> None:
    someone = agent()
    holder = runner()
    idle, wanted, busy, fresh = (Pair(uuid.uuid4(), someone.id) for _ in range(4))

    def disk(pair: Pair, unused_for: timedelta) -> VolumeView:
        return VolumeView(uuid.uuid4(), pair.thread_id, holder.id, timedelta(hours=1), NOW - unused_for)

    expired = disk(idle, timedelta(hours=1))
    volumes = [expired, disk(wanted, timedelta(hours=2)), disk(busy, timedelta(hours=2)),
               disk(fresh, timedelta(minutes=59))]
    running = workload(someone, busy, holder.id, status="running", last_activity_at=NOW)
    decisions = decide(world([someone], [holder], [wanted], active=[running], volumes=volumes,
                             open_threads=frozenset({busy.thread_id})))
    removals = [d for d in decisions if isinstance(d, RemoveVolume)]
    assert removals == [RemoveVolume(expired, "its thread has had no workload for longer than the volume's ttl "
                                              "(3600s)")]
    # a message waiting (a start this pass) or a live workload keeps the data, however old
    assert [d for d in decisions if not isinstance(d, RemoveVolume)] == [
        Start(wanted, holder.id, "unacked messages and no live workload")]
