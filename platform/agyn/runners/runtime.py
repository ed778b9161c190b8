"""The runner interface the orchestrator uses: start, inspect, stop, list workloads, and their logs.

The local runner (`local.py`) runs a workload as processes on this machine; a remote runner
(`remote.py`) is a runner on another machine, reached over its channel; the Kubernetes runner
(`kubernetes.py`) runs a workload as a Pod. All implement the same five calls.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

INIT_SCRIPTS_DONE = "AGYN_INIT_SCRIPTS_DONE"
"""Set (to 1) in the runtime's environment: the runner ran the workload's init scripts before it, so the
runtime does not run them again."""

ContainerRole = Literal["main", "sidecar", "init"]
ObservedStatus = Literal["pending", "running", "exited", "failed", "lost", "reaped"]
"""pending: asked to start, not yet reported (a remote runner), or still starting; exited: the main
process ended (see `exit_code`); failed: the runner saw it cannot run (see `failure_reason`, e.g. an
image that cannot be pulled); lost: the runner does not know the workload; reaped: the runner found
the workload's processes left over from before it restarted and ended them."""


class StartFailed(Exception):
    """The runner could not start the workload (an init script failed, the command does not exist)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class McpSpec:
    name: str
    command: str
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    resources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumeSpec:
    volume_id: uuid.UUID
    name: str
    mount_path: str
    persistent: bool
    size: str | None = None


@dataclass(frozen=True)
class WorkloadSpec:
    """Everything a runner needs to start a workload. `env` holds resolved secret values: it lives in
    memory and in the processes' environments only, never on disk or in a log."""

    workload_id: uuid.UUID
    agent_id: uuid.UUID
    thread_id: uuid.UUID
    organization_id: uuid.UUID
    runtime_command: str
    env: dict[str, str]
    init_scripts: list[str] = field(default_factory=list)
    mcps: list[McpSpec] = field(default_factory=list)
    hooks: list[dict[str, Any]] = field(default_factory=list)
    volumes: list[VolumeSpec] = field(default_factory=list)
    image: str | None = None
    """The agent's container images and compute resources: for container runners (the local runner
    runs commands as they are)."""
    init_image: str | None = None
    resources: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("workload_id", "agent_id", "thread_id", "organization_id"):
            data[key] = str(data[key])
        for volume in data["volumes"]:
            volume["volume_id"] = str(volume["volume_id"])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkloadSpec:
        return cls(workload_id=uuid.UUID(data["workload_id"]), agent_id=uuid.UUID(data["agent_id"]),
                   thread_id=uuid.UUID(data["thread_id"]), organization_id=uuid.UUID(data["organization_id"]),
                   runtime_command=data["runtime_command"], env=dict(data["env"]),
                   init_scripts=list(data.get("init_scripts", [])),
                   mcps=[McpSpec(**m) for m in data.get("mcps", [])], hooks=list(data.get("hooks", [])),
                   volumes=[VolumeSpec(uuid.UUID(v["volume_id"]), v["name"], v["mount_path"], v["persistent"],
                                       v.get("size")) for v in data.get("volumes", [])],
                   image=data.get("image"), init_image=data.get("init_image"),
                   resources=dict(data.get("resources") or {}))


@dataclass
class ContainerState:
    """One process of a workload (the runtime, an MCP server, an init script), in Kubernetes' terms."""

    name: str
    role: ContainerRole
    status: Literal["waiting", "running", "exited"] = "waiting"
    exit_code: int | None = None
    restarts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None
    """Why it waits or why it ended, in the runtime's words (Kubernetes: `ImagePullBackOff`, `Error`)."""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Observed:
    """What a runner reports about a workload."""

    workload_id: uuid.UUID
    status: ObservedStatus
    containers: tuple[ContainerState, ...] = ()
    exit_code: int | None = None
    message: str | None = None
    failure_reason: str | None = None
    """With `failed`: image_pull_failed, config_invalid, start_failed or crashloop."""

    def to_json(self) -> dict[str, Any]:
        return {"workload_id": str(self.workload_id), "status": self.status, "exit_code": self.exit_code,
                "message": self.message, "failure_reason": self.failure_reason,
                "containers": [c.to_json() for c in self.containers]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observed:
        return cls(uuid.UUID(data["workload_id"]), data["status"],
                   tuple(ContainerState(**c) for c in data.get("containers", [])), data.get("exit_code"),
                   data.get("message"), data.get("failure_reason"))


class Runtime(Protocol):
    """A place workloads run. Every call is safe to repeat."""

    async def start(self, spec: WorkloadSpec) -> None:
        """Start the workload's processes; `StartFailed` when they cannot start."""
        ...

    async def inspect(self, workload_id: uuid.UUID) -> Observed: ...

    async def stop(self, workload_id: uuid.UUID) -> None:
        """End the workload's processes (SIGTERM, then SIGKILL after the grace period); its volumes stay."""
        ...

    async def list(self) -> list[uuid.UUID]:
        """The workloads this runner has processes for."""
        ...

    async def remove_volume(self, volume_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
        """Delete a volume's data for one thread (its TTL ran out). True once it is gone (or never was);
        False while the removal is under way elsewhere (a remote runner's, confirmed in a later report)."""
        ...

    def logs(self, workload_id: uuid.UUID, container: str, follow: bool) -> AsyncIterator[bytes]:
        """A container's output; with `follow`, until the workload ends."""
        ...
