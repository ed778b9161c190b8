"""The orchestrator module: in a process that orchestrates (`agyn serve`, `agyn orchestrator`), the
embedded local runner and the leader-elected control loop start with the platform."""

from __future__ import annotations

from agyn.kit.platform import Module, Platform
from agyn.orchestrator.lease import Lease
from agyn.orchestrator.loop import OrchestratorLoop
from agyn.orchestrator.service import Orchestrator
from agyn.runners.local import LocalRuntime
from agyn.runners.remote import RUNNER_REPORTED
from agyn.runners.workloads import WorkloadsService
from agyn.settings import Settings


def services(platform: Platform) -> list[object]:
    settings = platform.get(Settings)
    orchestrator = Orchestrator(platform)
    lease = Lease(platform.database.url, is_sqlite=platform.database.is_sqlite)
    loop = OrchestratorLoop(orchestrator, lease, tick=settings.orchestrator.tick_seconds,
                            lease_retry=settings.orchestrator.lease_retry_seconds)
    return [orchestrator, loop]


async def start(platform: Platform) -> None:
    settings = platform.get(Settings)
    if not settings.orchestrator.enabled:
        return
    loop = platform.get(OrchestratorLoop)
    if settings.runner.embedded:
        local = LocalRuntime(settings.data_dir, stop_grace=settings.runner.stop_grace_seconds,
                             on_exit=lambda _workload_id: loop.wake())
        local.recover()
        runner_id = await platform.get(Orchestrator).register_local_runner()
        platform.get(WorkloadsService).runtimes.register(runner_id, local)
        platform.provide(local)
    loop.start()


async def stop(platform: Platform) -> None:
    await platform.get(OrchestratorLoop).stop()


def subscriptions(platform: Platform) -> list[tuple[str, object]]:
    loop = platform.get(OrchestratorLoop)
    return [("message.created", loop.on_message), ("agent.updated", loop.on_event),
            (RUNNER_REPORTED, loop.on_event)]


MODULE = Module(name="orchestrator", services=services, subscriptions=subscriptions,  # type: ignore[arg-type]
                on_start=start, on_stop=stop)
