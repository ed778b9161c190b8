"""`agyn serve` for a benchmark: a temporary data dir (or a PostgreSQL database brought to the schema), a free
port, started and healthy, its admin token read; `stop()` ends it."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

AGYN = Path(sys.executable).with_name("agyn")


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile of `values` (in any order), `q` from 0 to 1: p99 of 200 is the 198th."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far (Linux)."""
    stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(stat[11]) + int(stat[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_postgres(server: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server at `server`, dropped afterwards; yields its URL."""
    name = f"agyn_bench_{uuid.uuid4().hex[:8]}"
    _execute(server, f'CREATE DATABASE "{name}"')
    try:
        yield f"{server.rpartition('/')[0]}/{name}"
    finally:
        _execute(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _execute(server: str, statement: str) -> None:
    import asyncpg

    async def execute() -> None:
        connection = await asyncpg.connect(server)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(execute())


class ServedPlatform:
    def __init__(self, workdir: Path, database_url: str | None, **env_overrides: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_LOG_LEVEL="warning", AGYN_CLIENT_CONFIG="/nonexistent", **env_overrides)
        if database_url:
            env["AGYN_DATABASE_URL"] = database_url
            subprocess.run([str(AGYN), "db", "upgrade", "--data-dir", str(workdir / "data")], env=env, check=True)
        self.log = (workdir / "serve.log").open("w")
        self.process = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(workdir / "data"), "--port",
                                         str(self.port)], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        self.admin = (workdir / "data" / "admin-token").read_text().strip()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
