"""Leader election with a coordination.k8s.io/v1 Lease, against a local Kubernetes API server: two
contenders, one leads; the other takes over only once the leader has stopped renewing for the lease's
duration (by the contender's own clock); a leader that stops hands over at once; and an orchestrator
configured with `AGYN_ORCHESTRATOR__LEASE=kubernetes` leads through it."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
from kubernetes import client

from agyn.orchestrator.kubernetes_lease import KubernetesLease
from agyn.runners.kubernetes import api_client
from agyn.settings import KubernetesSettings
from tests.orchestrator.support import eventually, live_platform
from tests.support.clock import FakeClock
from tests.support.kube_api import KubeApiServer

NS = "agyn"


def contender(kubeconfig: Path, name: str, clock: FakeClock) -> KubernetesLease:
    api = client.CoordinationV1Api(api_client(KubernetesSettings(kubeconfig=kubeconfig)))
    return KubernetesLease(api, "agyn-orchestrator", NS, duration_seconds=15, clock=clock, identity=name)


def holder(kube: KubeApiServer) -> str | None:
    found = kube.get("leases", NS, "agyn-orchestrator")
    return None if found is None else found["spec"]["holderIdentity"]


async def test_one_of_two_contenders_leads_and_the_other_takes_over_when_it_stops_renewing(tmp_path: Path) -> None:
    async with KubeApiServer() as kube:
        config = kube.kubeconfig(tmp_path)
        clock_a, clock_b = FakeClock(), FakeClock()
        a, b = contender(config, "a", clock_a), contender(config, "b", clock_b)

        assert await a.acquire() and a.held
        assert not await b.acquire() and not b.held
        lease = kube.get("leases", NS, "agyn-orchestrator")
        assert lease is not None and holder(kube) == "a"
        stored = {k: v for k, v in lease.items() if k != "metadata"}
        kubernetes_validate.validate({**stored, "metadata": {"name": "agyn-orchestrator"}},
                                     kubernetes_validate.latest_version(), strict=True)

        for _ in range(3):  # a renews within the duration: b, whose clock moves too, never takes over
            clock_a.advance(10)
            clock_b.advance(10)
            assert await a.still_held()
            assert not await b.acquire()
        assert holder(kube) == "a"

        clock_b.advance(14)  # a stops renewing; not yet the duration by b's clock
        assert not await b.acquire()
        clock_b.advance(1)
        assert await b.acquire() and holder(kube) == "b"
        lease = kube.get("leases", NS, "agyn-orchestrator")
        assert lease is not None and lease["spec"]["leaseTransitions"] == 1
        assert not await a.still_held() and not a.held  # the old leader finds out at its next renewal


async def test_a_stopping_leader_hands_over_at_once(tmp_path: Path) -> None:
    async with KubeApiServer() as kube:
        config = kube.kubeconfig(tmp_path)
        a, b = contender(config, "a", FakeClock()), contender(config, "b", FakeClock())
        assert await a.acquire()
        assert not await b.acquire()
        await a.release()
        assert await b.acquire() and holder(kube) == "b"


async def test_two_contenders_writing_at_once_cannot_both_win(tmp_path: Path) -> None:
    async with KubeApiServer() as kube:
        config = kube.kubeconfig(tmp_path)
        clock_a, clock_b = FakeClock(), FakeClock()
        a, b = contender(config, "a", clock_a), contender(config, "b", clock_b)
        assert await a.acquire()
        assert not await b.acquire()
        clock_b.advance(15)  # b sees a's record as expired, but a renews between b's read and b's write
        kube.before_next_write = lambda: a.still_held()
        assert not await b.acquire() and holder(kube) == "a"  # b's write carried a stale resourceVersion
        assert a.held


async def test_the_orchestrator_leads_through_the_lease(database_url: str, tmp_path: Path) -> None:
    async with KubeApiServer() as kube:
        settings = {"kubeconfig": kube.kubeconfig(tmp_path), "lease_namespace": NS}
        async with live_platform(database_url, tmp_path / "data", kubernetes=settings,
                                 orchestrator={"enabled": True, "tick_seconds": 0.2, "lease_retry_seconds": 0.2,
                                               "lease": "kubernetes"}) as live:
            async def leading() -> bool:
                return live.loop.leading.is_set()
            await eventually(leading, what="the orchestrator leading")
            assert holder(kube) == live.loop.lease.identity  # type: ignore[attr-defined]
        released = kube.get("leases", NS, "agyn-orchestrator")
        assert released is not None and released["spec"]["holderIdentity"] == ""  # handed over on stop
