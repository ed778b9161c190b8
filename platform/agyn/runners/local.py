"""The local runner: a workload is a group of processes on this machine.

Layout under the data dir:
- `workloads/<id>/`: the workload's working directory (cwd of its processes), `logs/<container>.log`,
  and `workload.json`, the marker naming its processes (pids and start times, never the environment),
  so a restarted runner finds what an earlier life of it left running;
- `volumes/<volume id>/<thread id>/`: a volume's data for one thread, kept across stops;
- `state/<agent id>/<thread id>/`: the runtime's state dir (`AGYN_STATE_DIR`), kept across stops.

Init scripts run first (`/bin/sh -c`), one after another; then each MCP server (`/bin/sh -c <command>`
with `MCP_PORT` set to a free localhost port), then the runtime command. Each process leads its own
process group, which is what a stop signals. Container images are ignored: this runner runs
commands as they are, on this machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import shutil
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from agyn.runners.runtime import INIT_SCRIPTS_DONE, ContainerState, Observed, StartFailed, WorkloadSpec

log = logging.getLogger("agyn.runners.local")

MAIN = "runtime"
MARKER = "workload.json"
INIT_TIMEOUT = 600.0
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE", "PYTHONPATH")
"""What a workload inherits from the platform's environment; nothing else (the platform's own
settings and secrets stay out of agents' reach)."""


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (tells a process from a later one with its pid)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[19]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


@dataclass
class _Workload:
    spec: WorkloadSpec
    directory: Path
    processes: dict[str, asyncio.subprocess.Process] = field(default_factory=dict)
    containers: dict[str, ContainerState] = field(default_factory=dict)
    watchers: list[asyncio.Task[None]] = field(default_factory=list)


class LocalRuntime:
    def __init__(self, data_dir: Path, *, stop_grace: float = 10.0,
                 on_exit: Callable[[uuid.UUID], None] | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.stop_grace = stop_grace
        self.on_exit = on_exit
        """Called when a workload's runtime process ends by itself (the orchestrator looks at once)."""
        self._workloads: dict[uuid.UUID, _Workload] = {}
        self.reaped: set[uuid.UUID] = set()

    # --- paths ----------------------------------------------------------------------------------

    def workload_dir(self, workload_id: uuid.UUID) -> Path:
        return self.data_dir / "workloads" / str(workload_id)

    def volume_dir(self, volume_id: uuid.UUID, thread_id: uuid.UUID) -> Path:
        return self.data_dir / "volumes" / str(volume_id) / str(thread_id)

    def state_dir(self, agent_id: uuid.UUID, thread_id: uuid.UUID) -> Path:
        return self.data_dir / "state" / str(agent_id) / str(thread_id)

    # --- after a restart ------------------------------------------------------------------------

    def recover(self) -> list[uuid.UUID]:
        """End what an earlier life of this runner left running (its process groups, found through the
        markers); returns those workloads, which `inspect` reports as reaped."""
        found: list[uuid.UUID] = []
        for marker in sorted((self.data_dir / "workloads").glob(f"*/{MARKER}")):
            try:
                data = json.loads(marker.read_text())
                workload_id = uuid.UUID(data["workload_id"])
            except (OSError, ValueError, KeyError):
                continue
            alive = [p["pid"] for p in data.get("processes", []) if _start_time(p["pid"]) == p.get("start_time")]
            for pid in alive:
                _signal_group(pid, signal.SIGKILL)
            marker.unlink(missing_ok=True)
            self.reaped.add(workload_id)
            found.append(workload_id)
            log.info("ended a workload left over from before a restart",
                     extra={"workload_id": str(workload_id), "processes": len(alive)})
        return found

    # --- the interface --------------------------------------------------------------------------

    async def start(self, spec: WorkloadSpec) -> None:
        if spec.workload_id in self._workloads:
            return
        directory = self.workload_dir(spec.workload_id)
        (directory / "logs").mkdir(parents=True, exist_ok=True)
        workload = _Workload(spec, directory)
        self._workloads[spec.workload_id] = workload
        try:
            await self._start(workload)
        except StartFailed:
            await self.stop(spec.workload_id)
            raise
        except OSError as error:
            await self.stop(spec.workload_id)
            raise StartFailed(f"cannot start the workload's processes: {error}") from None

    async def _start(self, workload: _Workload) -> None:
        spec = workload.spec
        state = self.state_dir(spec.agent_id, spec.thread_id)
        state.mkdir(parents=True, exist_ok=True)
        volumes: dict[str, str] = {}
        for volume in spec.volumes:
            path = self.volume_dir(volume.volume_id, spec.thread_id)
            path.mkdir(parents=True, exist_ok=True)
            link = workload.directory / "volumes" / volume.name
            link.parent.mkdir(exist_ok=True)
            if not link.is_symlink():
                link.symlink_to(path)
            volumes[volume.mount_path] = str(path)
        base = {name: os.environ[name] for name in INHERITED if name in os.environ}
        shared = {**base, "AGYN_VOLUMES": json.dumps(volumes)}
        env = {**shared, **spec.env, "AGYN_STATE_DIR": str(state), "AGYN_HOOKS": json.dumps(spec.hooks)}
        # init scripts see the agent's ENVs but not its token; MCP servers only their own ENVs
        prepare = {k: v for k, v in env.items() if k != "AGYN_WORKLOAD_TOKEN"}
        for index, script in enumerate(spec.init_scripts):
            name = f"init-{index}"
            container = workload.containers[name] = ContainerState(name, "init", "running", started_at=_now())
            process = await self._spawn(workload, name, ["/bin/sh", "-c", script], prepare)
            try:
                code = await asyncio.wait_for(process.wait(), INIT_TIMEOUT)
            except TimeoutError:
                raise StartFailed(f"init script {index + 1} did not finish within {INIT_TIMEOUT:.0f}s") from None
            container.status, container.exit_code, container.finished_at = "exited", code, _now()
            if code != 0:
                raise StartFailed(f"init script {index + 1} exited with code {code} (see the logs of container "
                                  f"{name})")
        servers = []
        for mcp in spec.mcps:
            if mcp.env.get("MCP_TRANSPORT") == "stdio":  # the runtime starts it and speaks over its stdio
                servers.append({"name": mcp.name, "transport": "stdio", "command": mcp.command})
                continue
            port = _free_port()
            name = f"mcp-{mcp.name}"
            workload.containers[name] = ContainerState(name, "sidecar", "running", started_at=_now())
            await self._spawn(workload, name, ["/bin/sh", "-c", mcp.command],
                              {**shared, **mcp.env, "MCP_PORT": str(port)}, watch=True)
            servers.append({"name": mcp.name, "transport": "streamable_http",
                            "url": f"http://127.0.0.1:{port}/mcp"})
        env["AGYN_MCP_SERVERS"] = json.dumps(servers)
        env[INIT_SCRIPTS_DONE] = "1"
        try:
            argv = shlex.split(spec.runtime_command)
        except ValueError as error:
            raise StartFailed(f"the runtime command cannot be parsed: {error}") from None
        workload.containers[MAIN] = ContainerState(MAIN, "main", "running", started_at=_now())
        try:
            await self._spawn(workload, MAIN, argv, env, watch=True)
        except FileNotFoundError:
            raise StartFailed(f"the runtime command {argv[0]!r} was not found") from None
        self._write_marker(workload)

    async def _spawn(self, workload: _Workload, name: str, argv: list[str], env: dict[str, str], *,
                     watch: bool = False) -> asyncio.subprocess.Process:
        with open(workload.directory / "logs" / f"{name}.log", "ab") as output:
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=workload.directory, env=env, stdin=asyncio.subprocess.DEVNULL, stdout=output,
                stderr=asyncio.subprocess.STDOUT, start_new_session=True)
        workload.processes[name] = process
        self._write_marker(workload)
        if watch:
            workload.watchers.append(asyncio.create_task(self._watch(workload, name, process)))
        return process

    async def _watch(self, workload: _Workload, name: str, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        container = workload.containers[name]
        container.status, container.exit_code, container.finished_at = "exited", code, _now()
        if name == MAIN and self.on_exit is not None and self._workloads.get(workload.spec.workload_id) is workload:
            self.on_exit(workload.spec.workload_id)

    def _write_marker(self, workload: _Workload) -> None:
        processes = [{"name": name, "pid": p.pid, "start_time": _start_time(p.pid)}
                     for name, p in workload.processes.items() if p.returncode is None]
        marker = workload.directory / MARKER
        marker.write_text(json.dumps({"workload_id": str(workload.spec.workload_id), "processes": processes}))

    async def inspect(self, workload_id: uuid.UUID) -> Observed:
        workload = self._workloads.get(workload_id)
        if workload is None:
            return Observed(workload_id, "reaped" if workload_id in self.reaped else "lost")
        containers = tuple(ContainerState(**c.to_json()) for c in workload.containers.values())
        main = workload.processes.get(MAIN)
        if main is None:
            return Observed(workload_id, "pending", containers)
        if main.returncode is None:
            return Observed(workload_id, "running", containers)
        return Observed(workload_id, "exited", containers, exit_code=main.returncode)

    async def stop(self, workload_id: uuid.UUID) -> None:
        workload = self._workloads.pop(workload_id, None)
        if workload is None:
            return
        processes = list(workload.processes.values())
        for process in processes:
            _signal_group(process.pid, signal.SIGTERM)
        main = workload.processes.get(MAIN)
        waiting = [p.wait() for p in processes]
        try:
            await asyncio.wait_for(asyncio.gather(*waiting), self.stop_grace if main is not None else 1.0)
        except TimeoutError:
            pass
        for process in processes:  # whatever is left of each group, the process leader's children too
            _signal_group(process.pid, signal.SIGKILL)
        await asyncio.gather(*(p.wait() for p in processes))
        for watcher in workload.watchers:
            watcher.cancel()
        (workload.directory / MARKER).unlink(missing_ok=True)

    async def list(self) -> list[uuid.UUID]:
        return list(self._workloads)

    async def remove_volume(self, volume_id: uuid.UUID, thread_id: uuid.UUID) -> bool:
        await asyncio.to_thread(_remove_tree, self.volume_dir(volume_id, thread_id))
        return True

    async def logs(self, workload_id: uuid.UUID, container: str, follow: bool) -> AsyncIterator[bytes]:
        path = self.workload_dir(workload_id) / "logs" / f"{Path(container).name}.log"
        if not path.is_file():
            return
        with open(path, "rb") as source:
            while True:
                chunk = source.read(65536)
                if chunk:
                    yield chunk
                    continue
                if not follow or workload_id not in self._workloads:
                    return
                await asyncio.sleep(0.2)

    async def close(self) -> None:
        """The platform is stopping: end every workload (the orchestrator of the next start restarts
        what still has work)."""
        for workload_id in list(self._workloads):
            await self.stop(workload_id)


def _remove_tree(path: Path) -> None:
    """A directory and what it holds, then its parent if that is left empty (a volume's last thread)."""
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(path)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
