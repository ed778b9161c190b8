"""The orchestrator module: in a process that orchestrates (`agyn serve`, `agyn orchestrator`), the
embedded runner (local processes, or Pods with `AGYN_RUNNER__KIND=kubernetes`) and the leader-elected
control loop start with the platform."""

from __future__ import annotations

from agyn.kit.platform import Module, Platform
from agyn.orchestrator.lease import AdvisoryLock, Lease
from agyn.orchestrator.loop import OrchestratorLoop
from agyn.orchestrator.service import KUBERNETES_RUNNER, Orchestrator
from agyn.runners.local import LocalRuntime
from agyn.runners.remote import RUNNER_REPORTED
from agyn.runners.workloads import WorkloadsService
from agyn.settings import Settings


def services(platform: Platform) -> list[object]:
    settings = platform.get(Settings)
    orchestrator = Orchestrator(platform)
    lease: Lease = AdvisoryLock(platform.database.url, is_sqlite=platform.database.is_sqlite)
    if settings.orchestrator.lease == "kubernetes":  # the client is imported only where it is used
        from kubernetes import client

        from agyn.orchestrator.kubernetes_lease import KubernetesLease
        from agyn.runners.kubernetes import api_client, in_cluster_namespace

        kube = settings.kubernetes
        lease = KubernetesLease(client.CoordinationV1Api(api_client(kube)), kube.lease_name,
                                kube.lease_namespace or in_cluster_namespace() or kube.namespace,
                                duration_seconds=kube.lease_duration_seconds, clock=platform.clock)
    loop = OrchestratorLoop(orchestrator, lease, tick=settings.orchestrator.tick_seconds,
                            lease_retry=settings.orchestrator.lease_retry_seconds)
    return [orchestrator, loop]


async def start(platform: Platform) -> None:
    settings = platform.get(Settings)
    if not settings.orchestrator.enabled:
        return
    loop = platform.get(OrchestratorLoop)
    if settings.runner.embedded and settings.runner.kind == "kubernetes":
        from agyn.runners.kubernetes import KubernetesRuntime

        pods = KubernetesRuntime(settings.kubernetes, stop_grace=settings.runner.stop_grace_seconds,
                                 on_change=lambda _workload_id: loop.wake())
        runner_id = await platform.get(Orchestrator).register_local_runner(KUBERNETES_RUNNER)
        platform.get(WorkloadsService).runtimes.register(runner_id, pods)
        platform.provide(pods)
        pods.watch()
    elif settings.runner.embedded:
        local = LocalRuntime(settings.data_dir, stop_grace=settings.runner.stop_grace_seconds,
                             on_exit=lambda _workload_id: loop.wake())
        local.recover()
        runner_id = await platform.get(Orchestrator).register_local_runner()
        platform.get(WorkloadsService).runtimes.register(runner_id, local)
        platform.provide(local)
    loop.start()


async def stop(platform: Platform) -> None:
    await platform.get(OrchestratorLoop).stop()
    settings = platform.get(Settings)
    if settings.orchestrator.enabled and settings.runner.embedded and settings.runner.kind == "kubernetes":
        from agyn.runners.kubernetes import KubernetesRuntime

        await platform.get(KubernetesRuntime).close()


def subscriptions(platform: Platform) -> list[tuple[str, object]]:
    loop = platform.get(OrchestratorLoop)
    return [("message.created", loop.on_message), ("agent.updated", loop.on_event),
            (RUNNER_REPORTED, loop.on_event)]


MODULE = Module(name="orchestrator", services=services, subscriptions=subscriptions,  # type: ignore[arg-type]
                on_start=start, on_stop=stop)
