"""Remote runners: the local runner on another machine, connecting out to the platform (no inbound
port). `agyn runner serve --platform-url URL --token <runner service token>` long-polls
`POST /api/v1/runner-channel`: each request reports the state of every workload the runner has, and
its answer carries what the runner must do (start these, stop those, remove these volumes).

Commands are derived, not queued: the answer lists every start the runner has not reported yet, every
stop of a workload it still reports, and every volume removal it has not confirmed (a runner confirms a
removal in each report after it, until one carrying it is answered), so a lost or cancelled request loses
nothing. A start's spec (with its workload token and resolved ENVs) is held in this process's memory
until the runner reports the workload, never stored. The channel is served by the process that
orchestrates.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Annotated, Any

import httpx
from fastapi import Query, Request
from pydantic import BaseModel, Field

from agyn.kit.errors import PermissionDenied, Unauthenticated
from agyn.kit.events import Event
from agyn.kit.platform import Platform, platform_of
from agyn.kit.principal import IdentityType, Principal
from agyn.kit.routing import ModuleRouter
from agyn.runners import repository
from agyn.runners.local import LocalRuntime
from agyn.runners.runtime import Observed, StartFailed, WorkloadSpec

if TYPE_CHECKING:
    from agyn.runners.kubernetes import KubernetesRuntime
from agyn.runners.workloads import WorkloadsService

log = logging.getLogger("agyn.runners.remote")

RUNNER_REPORTED = "runner.reported"
"""In-process event: a remote runner reported its workloads (the orchestrator looks at once)."""
MAX_WAIT = 30.0
Disk = tuple[uuid.UUID, uuid.UUID]
"""A volume's data for one thread: (volume id, thread id)."""


class RemoteRuntime:
    """The platform's side of one remote runner's channel, seen by the orchestrator as a runtime."""

    def __init__(self, runner_id: uuid.UUID) -> None:
        self.runner_id = runner_id
        self.reports: dict[uuid.UUID, Observed] = {}
        self.to_start: dict[uuid.UUID, WorkloadSpec] = {}
        self.to_stop: set[uuid.UUID] = set()
        self.to_remove: set[Disk] = set()
        self.removed: set[Disk] = set()
        """Removals the runner confirmed, until the orchestrator asks about them again."""
        self._changed = asyncio.Event()

    # --- the orchestrator's side ----------------------------------------------------------------

    async def start(self, spec: WorkloadSpec) -> None:
        self.to_start[spec.workload_id] = spec
        self._changed.set()

    async def inspect(self, workload_id: uuid.UUID) -> Observed:
        if workload_id in self.reports:
            return self.reports[workload_id]
        if workload_id in self.to_start:
            return Observed(workload_id, "pending")
        return Observed(workload_id, "lost", message="its remote runner does not report it")

    async def stop(self, workload_id: uuid.UUID) -> None:
        self.to_start.pop(workload_id, None)
        if workload_id in self.reports:
            self.to_stop.add(workload_id)
            self._changed.set()

    async def list(self) -> list[uuid.UUID]:
        return list(self.reports)

    async def remove_volume(self, volume_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
        disk = (volume_id, thread_id)
        if disk in self.removed:
            self.removed.discard(disk)
            return True
        if disk not in self.to_remove:
            self.to_remove.add(disk)
            self._changed.set()
        return False

    async def logs(self, workload_id: uuid.UUID, container: str, follow: bool) -> AsyncIterator[bytes]:
        yield b"the logs of a remote runner's workloads stay on its machine (<data dir>/workloads/<id>/logs)\n"

    # --- the channel's side -----------------------------------------------------------------------

    def report(self, observed: builtins.list[Observed], removed: Iterable[Disk] = ()) -> None:
        self.reports = {o.workload_id: o for o in observed}
        for workload_id in self.reports:
            self.to_start.pop(workload_id, None)
        self.to_stop &= set(self.reports)
        self.removed |= set(removed) & self.to_remove
        self.to_remove -= self.removed

    def commands(self) -> builtins.list[dict[str, Any]]:
        return [*({"op": "start", "spec": spec.to_json()} for spec in self.to_start.values()),
                *({"op": "stop", "workload_id": str(w)} for w in sorted(self.to_stop)),
                *({"op": "remove_volume", "volume_id": str(v), "thread_id": str(t)} for v, t in sorted(self.to_remove))]

    async def wait_for_commands(self, seconds: float) -> builtins.list[dict[str, Any]]:
        self._changed.clear()
        found = self.commands()
        if found or seconds <= 0:
            return found
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)
        return self.commands()


class RemoteRunners:
    """The channels of the remote runners connected to this process."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.workloads = platform.get(WorkloadsService)
        self._channels: dict[uuid.UUID, RemoteRuntime] = {}

    def channel(self, runner_id: uuid.UUID) -> RemoteRuntime:
        found = self._channels.get(runner_id)
        if found is None:
            found = self._channels[runner_id] = RemoteRuntime(runner_id)
            self.workloads.runtimes.register(runner_id, found)
        return found


class RemovedVolume(BaseModel):
    volume_id: uuid.UUID
    thread_id: uuid.UUID


class ChannelReport(BaseModel):
    workloads: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000,
                                            description="Every workload the runner has, as it sees it.")
    removed_volumes: list[RemovedVolume] = Field(
        default_factory=list, max_length=10_000,
        description="Volume removals done since the runner's last answered report (`remove_volume` commands).")


class ChannelCommands(BaseModel):
    commands: list[dict[str, Any]] = Field(
        description="`{op: start, spec}`, `{op: stop, workload_id}` or `{op: remove_volume, volume_id, thread_id}`; "
                    "a spec holds secrets: keep it in memory.")


router = ModuleRouter(prefix="/api/v1")


async def _runner(request: Request, platform: Platform) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise Unauthenticated("send the runner's service token: 'Authorization: Bearer <token>'")
    async with platform.database.transaction() as session:  # short: the request then waits without one
        principal = await platform.authenticator.authenticate(session, credential.strip())
        if principal.identity_type != IdentityType.runner:
            raise PermissionDenied("only runners use the runner channel (with their service token)")
        await repository.seen(session, principal.identity_id, platform.clock.now())
    return principal


@router.post("/runner-channel", response_model=ChannelCommands, tags=["runners"],
             summary="A remote runner reports its workloads and waits for what to do (long poll)")
async def runner_channel(request: Request, report: ChannelReport,
                         wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 20.0) -> ChannelCommands:
    platform = platform_of(request)
    principal = await _runner(request, platform)
    channel = platform.get(RemoteRunners).channel(principal.identity_id)
    try:
        channel.report([Observed.from_json(item) for item in report.workloads],
                       [(removed.volume_id, removed.thread_id) for removed in report.removed_volumes])
    except (KeyError, ValueError, TypeError) as error:
        from agyn.kit.errors import InvalidArgument

        raise InvalidArgument.field("workloads", f"not a workload report: {error}") from None
    await platform.events.publish(Event(RUNNER_REPORTED, {"runner_id": str(principal.identity_id)}, "runners"))
    return ChannelCommands(commands=await channel.wait_for_commands(wait))


# --- the runner's side: `agyn runner serve` ---------------------------------------------------------


class RunnerAgent:
    """Runs workloads for a platform it connects to: on this machine, or as Pods of a cluster."""

    def __init__(self, platform_url: str, token: str, runtime: LocalRuntime | KubernetesRuntime, *,
                 wait: float = 20.0) -> None:
        self.platform_url = platform_url.rstrip("/")
        self.token = token
        self.runtime = runtime
        self.wait = wait
        self.failures: dict[uuid.UUID, Observed] = {}
        self.removed_volumes: dict[Disk, None] = {}
        """Volumes removed on the platform's command, confirmed in each report until one is answered."""
        self._exited = asyncio.Event()
        if isinstance(runtime, LocalRuntime):
            runtime.on_exit = lambda _workload_id: self._exited.set()
        else:
            runtime.on_change = lambda _workload_id: self._exited.set()

    async def report(self) -> list[dict[str, Any]]:
        observed = [await self.runtime.inspect(w) for w in await self.runtime.list()]
        return [o.to_json() for o in observed] + [o.to_json() for o in self.failures.values()]

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(base_url=self.platform_url, headers=headers, timeout=self.wait + 30) as client:
            while True:
                try:
                    commands = await self._poll(client)
                except httpx.HTTPError as error:
                    log.warning("the platform is unreachable; retrying", extra={"error": str(error)})
                    await asyncio.sleep(1)
                    continue
                for command in commands:
                    await self.execute(command)

    async def _poll(self, client: httpx.AsyncClient) -> list[dict[str, Any]]:
        """One long poll; a workload's runtime ending cuts it short (its state is reported at once)."""
        self._exited.clear()
        confirmed = list(self.removed_volumes)
        poll = asyncio.create_task(client.post("/api/v1/runner-channel", params={"wait": self.wait}, json={
            "workloads": await self.report(),
            "removed_volumes": [{"volume_id": str(v), "thread_id": str(t)} for v, t in confirmed]}))
        exited = asyncio.create_task(self._exited.wait())
        done, _ = await asyncio.wait({poll, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        if poll not in done:
            poll.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await poll
            return []
        response = poll.result()
        if response.status_code in (401, 403):
            raise SystemExit(f"the platform refused the runner's token ({response.status_code}): "
                             f"{response.json().get('detail')}")
        response.raise_for_status()
        for disk in confirmed:  # the platform has them
            self.removed_volumes.pop(disk, None)
        commands: list[dict[str, Any]] = response.json()["commands"]
        return commands

    async def execute(self, command: dict[str, Any]) -> None:
        if command.get("op") == "start":
            spec = WorkloadSpec.from_json(command["spec"])
            if spec.workload_id in self.failures:
                return
            try:
                await self.runtime.start(spec)
            except StartFailed as error:
                self.failures[spec.workload_id] = Observed(spec.workload_id, "exited", exit_code=-1,
                                                           message=error.message)
        elif command.get("op") == "stop":
            workload_id = uuid.UUID(command["workload_id"])
            self.failures.pop(workload_id, None)
            await self.runtime.stop(workload_id)
        elif command.get("op") == "remove_volume":
            disk = (uuid.UUID(command["volume_id"]), uuid.UUID(command["thread_id"]))
            if await self.runtime.remove_volume(*disk):
                self.removed_volumes[disk] = None
