"""The orchestrator's handover: how long after the leader dies (SIGKILL) the standby's runner channel listens.

    python benchmarks/handover.py --postgres postgresql://root@127.0.0.1:5432/postgres [--rounds 5]
                                  [--lease-retry 0.5]

Two `agyn orchestrator` processes on a fresh PostgreSQL database share one channel port (as two replicas
behind a Kubernetes Service do). Each round kills the leader with SIGKILL, times until the channel answers
again (the standby took the advisory lock and bound the port), and starts a new standby. The figure is
printed with its ratio to `--lease-retry`, the standby's retry interval, which bounds the wait for the
lock; the rest is the database noticing the dead session and the listener starting. Other processes on
the machine share its cores: figures are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

AGYN = Path(sys.executable).with_name("agyn")


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_listening(port: int, timeout: float = 60.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if listening(port):
            return time.perf_counter() - started
        time.sleep(0.005)
    raise SystemExit(f"error: no orchestrator listened on {port} within {timeout:.0f} s")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def database(server: str, statement: str) -> None:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", required=True, help="a PostgreSQL server URL (a scratch database is made)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--lease-retry", type=float, default=0.5)
    args = parser.parse_args()
    name = f"agyn_handover_{uuid.uuid4().hex[:8]}"
    asyncio.run(database(args.postgres, f'CREATE DATABASE "{name}"'))
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_DATABASE_URL=f"{args.postgres.rpartition('/')[0]}/{name}", AGYN_RUNNER__EMBEDDED="false",
                   AGYN_ORCHESTRATOR__CHANNEL_PORT=str(port),
                   AGYN_ORCHESTRATOR__LEASE_RETRY_SECONDS=str(args.lease_retry), AGYN_LOG_LEVEL="warning")
        subprocess.run([str(AGYN), "db", "upgrade", "--data-dir", f"{scratch}/migrate"], env=env, check=True,
                       capture_output=True)

        def orchestrator(index: int) -> subprocess.Popen[bytes]:
            return subprocess.Popen([str(AGYN), "orchestrator", "--data-dir", f"{scratch}/o{index}"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        leader = orchestrator(0)
        wait_listening(port)
        standby = orchestrator(1)
        time.sleep(3)  # the standby is up and retrying
        figures = []
        try:
            for round_ in range(args.rounds):
                leader.send_signal(signal.SIGKILL)
                leader.wait()
                figures.append(wait_listening(port))
                leader, standby = standby, orchestrator(round_ + 2)
                time.sleep(3)
        finally:
            for process in (leader, standby):
                process.send_signal(signal.SIGINT)
                process.wait(timeout=30)
            asyncio.run(database(args.postgres, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    p50, worst = statistics.median(figures), max(figures)
    print(f"handover, SIGKILL of the leader to the standby's channel listening ({args.rounds} rounds): "
          f"p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms; "
          f"{p50 / args.lease_retry:.1f}x the lease retry interval ({args.lease_retry * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
