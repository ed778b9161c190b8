"""`agyn orchestrator` (the control loop alone, for deployments that run it apart from the API) and
`agyn runner serve` (a remote runner: workloads on this machine for a platform elsewhere)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from agyn.cli.common import DataDirOption, console, fail


class RunnerKind(StrEnum):
    local = "local"
    kubernetes = "kubernetes"


runner_app = typer.Typer(help="Run workloads on this machine for a platform (a remote runner).",
                         no_args_is_help=True)


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


def orchestrator(data_dir: DataDirOption = None) -> None:
    """Run the orchestrator alone (leader-elected; with its embedded local runner unless
    AGYN_RUNNER__EMBEDDED=false). Workloads call the API at AGYN_RUNNER__PLATFORM_URL; with
    AGYN_ORCHESTRATOR__CHANNEL_PORT the leader serves remote runners' channel on that port."""
    from agyn.cli.main import check_database, load_settings

    settings = load_settings(data_dir=data_dir)
    if not settings.orchestrator.enabled:
        fail("the orchestrator is disabled in this configuration", "unset AGYN_ORCHESTRATOR__ENABLED")
    check_database(settings)

    from agyn.app import start
    from agyn.kit.logging import configure_logging
    from agyn.modules import build_platform

    configure_logging(settings.log_level, settings.log_format)

    async def run() -> None:
        platform = build_platform(settings)
        await start(platform)
        channel = None
        if settings.orchestrator.channel_port is not None:
            from agyn.orchestrator.channel import serve_while_leading
            from agyn.orchestrator.loop import OrchestratorLoop

            channel = asyncio.create_task(serve_while_leading(
                platform, platform.get(OrchestratorLoop), settings.host, settings.orchestrator.channel_port))
        console.print(f"orchestrator running (data dir {settings.data_dir.resolve()}); Ctrl-C stops it",
                      highlight=False)
        try:
            await _until_signalled()
        finally:
            if channel is not None:
                channel.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await channel
            await platform.stop()

    asyncio.run(run())


@runner_app.command("serve")
def runner_serve(
    platform_url: Annotated[str, typer.Option("--platform-url", help="The platform's base URL, e.g. "
                                                                     "https://agyn.example.com.")],
    token: Annotated[str, typer.Option("--token", envvar="AGYN_RUNNER_TOKEN",
                                       help="The runner's service token (shown once when it was registered).")],
    data_dir: Annotated[Path, typer.Option("--data-dir", metavar="DIR",
                                           help="Where workloads' working, volume and state dirs live "
                                                "(kind local).")]
    = Path(".agyn-runner"),
    kind: Annotated[RunnerKind, typer.Option(
        "--kind", help="local: workloads are processes on this machine; kubernetes: Pods in the cluster of "
                       "AGYN_KUBERNETES__KUBECONFIG (or the in-cluster service account), namespace "
                       "AGYN_KUBERNETES__NAMESPACE.")] = RunnerKind.local,
) -> None:
    """Connect out to the platform and run the workloads it assigns to this runner (no inbound port)."""
    from agyn.kit.logging import configure_logging
    from agyn.runners.kubernetes import KubernetesRuntime
    from agyn.runners.local import LocalRuntime
    from agyn.runners.remote import RunnerAgent

    if not platform_url.startswith(("http://", "https://")):
        fail(f"--platform-url {platform_url!r} is not an http(s) URL", "pass e.g. --platform-url http://host:8080")
    configure_logging("info", "text")
    if kind is RunnerKind.kubernetes:
        from kubernetes.config import ConfigException

        from agyn.cli.main import load_settings

        settings = load_settings()
        try:
            runtime: LocalRuntime | KubernetesRuntime = KubernetesRuntime(
                settings.kubernetes, stop_grace=settings.runner.stop_grace_seconds)
        except (ConfigException, OSError) as error:
            fail(f"no Kubernetes cluster configured: {error}",
                 "set AGYN_KUBERNETES__KUBECONFIG to a kubeconfig, or run the runner in a Pod")
        where = f"namespace {settings.kubernetes.namespace}"
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
        runtime = LocalRuntime(data_dir)
        runtime.recover()
        where = f"data dir {data_dir.resolve()}"

    async def run() -> None:
        agent = RunnerAgent(platform_url, token, runtime)
        if isinstance(runtime, KubernetesRuntime):
            runtime.watch()
        task = asyncio.create_task(agent.run())
        stopper = asyncio.create_task(_until_signalled())
        console.print(f"runner connected to {platform_url} ({where}); Ctrl-C stops it", highlight=False)
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()
        finally:
            task.cancel()
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError, SystemExit):
                await task
            await runtime.close()

    try:
        asyncio.run(run())
    except SystemExit as error:
        if isinstance(error.code, str):
            fail(error.code, "register the runner again (POST /api/v1/runners) and use its new service token")
        raise
