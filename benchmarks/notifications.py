"""Notifications fan-out: one event to many SSE subscribers and Socket.IO clients.

    python benchmarks/notifications.py [--sse 100,1000,5000] [--socketio 1000] [--rounds 20]
                                       [--replicas 1,2]

Starts `agyn serve` (one replica: SQLite and the in-process broker; two replicas: PostgreSQL and Redis,
from AGYN_BENCH_POSTGRES_URL and AGYN_BENCH_REDIS_URL, defaulting to the local servers), creates an
organization with an agent, subscribes N clients to `agent:<id>` (split evenly over the replicas),
then changes the agent ROUNDS times through the first replica. Each change publishes `agent.updated`
after its commit; every client notes when the envelope arrived. Delivery time = arrival − the
envelope's `ts` (taken in the writing transaction, so it includes the commit, the broker and the
fan-out); the fan-out spread = arrival − the first client's arrival of the same envelope. Prints
p50/p99/max per scenario (SPEC §10 target: p99 ≤ 50 ms at 1,000 subscribers).

The clients are light protocol clients (raw HTTP/1.0 for SSE, the Engine.IO/Socket.IO v4/v5
protocol over `websockets` for Socket.IO) in one process that shares the machine's two cores with
the servers: the figures are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
from served import AGYN, free_port, percentile
from websockets.asyncio.client import ClientConnection, connect

POSTGRES_URL = os.environ.get("AGYN_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("AGYN_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ENVELOPE_ID = re.compile(rb'"id":"([0-9a-f-]{36})"')
SSE_ID = re.compile(rb"id: ([0-9a-f-]{36})\n")
CONNECT_BATCH = 100
ROUND_TIMEOUT = 10.0


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Replica:
    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(data_dir), "--port", str(self.port)],
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise SystemExit(f"agyn serve exited with {self.process.returncode}")
            time.sleep(0.1)
        self.process.kill()
        raise SystemExit("agyn serve did not become healthy within 60 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def create_agent(base: str, token: str) -> str:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        org = client.post("/api/v1/organizations", json={"name": "bench"}).json()["id"]
        provider = client.post("/api/v1/llm-providers", json={
            "organization_id": org, "endpoint": "https://llm.example", "auth_method": "bearer", "token": "t"})
        model = client.post("/api/v1/models", json={
            "organization_id": org, "name": "m", "llm_provider_id": provider.json()["id"], "remote_name": "m"})
        agent = client.post("/api/v1/agents", json={
            "organization_id": org, "name": "bench", "role": "assistant", "model": model.json()["id"],
            "availability": "internal"})
        agent.raise_for_status()
        return str(agent.json()["id"])


class Arrivals:
    """When each client saw each envelope id, and each envelope's ts."""

    def __init__(self) -> None:
        self.times: dict[bytes, list[float]] = {}
        self.ts: dict[bytes, float] = {}

    def note(self, envelope_id: bytes, at: float) -> None:
        self.times.setdefault(envelope_id, []).append(at)

    def note_envelope(self, data: bytes) -> None:
        envelope = json.loads(data)
        self.ts[envelope["id"].encode()] = datetime.fromisoformat(envelope["ts"]).timestamp()


class SseClient(asyncio.Protocol):
    """`GET /api/v1/events` over HTTP/1.0 (no chunked framing): notes each `id:` as it arrives."""

    def __init__(self, request: bytes, arrivals: Arrivals, subscribed: asyncio.Future[None], parse: bool) -> None:
        self.request, self.arrivals, self.subscribed, self.parse = request, arrivals, subscribed, parse
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.subscribed.done():
            if b": subscribed" in self.buffer:
                self.subscribed.set_result(None)
            elif b"\r\n\r\n" in self.buffer and b" 200 " not in self.buffer.split(b"\r\n", 1)[0]:
                self.subscribed.set_exception(RuntimeError(self.buffer.decode(errors="replace")[:300]))
            return
        end = self.buffer.rfind(b"\n\n")
        if end < 0:
            return
        complete, self.buffer = self.buffer[:end + 2], self.buffer[end + 2:]
        for match in SSE_ID.finditer(complete):
            self.arrivals.note(match.group(1), now)
        if self.parse:
            for line in complete.split(b"\n"):
                if line.startswith(b"data: {\"id\""):
                    self.arrivals.note_envelope(line[6:])

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.subscribed.done():
            self.subscribed.set_exception(RuntimeError(f"connection lost: {exc}"))


async def open_sse(url: str, token: str, room: str, arrivals: Arrivals, parse: bool) -> asyncio.Transport:
    host, port = url.removeprefix("http://").split(":")
    request = (f"GET /api/v1/events?rooms={room} HTTP/1.0\r\nHost: {host}\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    transport, _ = await asyncio.get_running_loop().create_connection(
        lambda: SseClient(request, arrivals, subscribed, parse), host, int(port))
    await asyncio.wait_for(subscribed, 60)
    return transport


async def socketio_client(url: str, token: str, room: str, arrivals: Arrivals, parse: bool,
                          subscribed: asyncio.Future[None]) -> None:
    """Engine.IO v4 over websocket, Socket.IO v5: open, connect with auth, subscribe, then listen."""
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    websocket: ClientConnection
    async with connect(ws_url, max_queue=None, ping_interval=None) as websocket:
        assert str(await websocket.recv()).startswith("0")  # Engine.IO open
        await websocket.send("40" + json.dumps({"token": token}))
        answer = str(await websocket.recv())
        if not answer.startswith("40"):
            subscribed.set_exception(RuntimeError(answer))
            return
        await websocket.send("421" + json.dumps(["subscribe", {"rooms": [room]}]))
        async for message in websocket:
            now = time.time()
            if message == "2":
                await websocket.send("3")
            elif isinstance(message, str) and message.startswith("431"):
                subscribed.set_result(None) if "error" not in message else subscribed.set_exception(
                    RuntimeError(message))
            elif isinstance(message, str) and message.startswith("42["):
                data = message.encode()
                match = ENVELOPE_ID.search(data)
                if match:
                    arrivals.note(match.group(1), now)
                    if parse:
                        arrivals.note_envelope(json.dumps(json.loads(data[2:])[1]).encode())


async def scenario(replicas: list[Replica], token: str, agent_id: str, kind: str, clients: int,
                   rounds: int) -> str:
    room = f"agent:{agent_id}"
    arrivals = Arrivals()
    transports: list[asyncio.Transport] = []
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for batch in range(0, clients, CONNECT_BATCH):
        if kind == "sse":
            transports += await asyncio.gather(*(
                open_sse(replicas[i % len(replicas)].url, token, room, arrivals, i == 0)
                for i in range(batch, min(clients, batch + CONNECT_BATCH))))
        else:
            futures = []
            for i in range(batch, min(clients, batch + CONNECT_BATCH)):
                subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                futures.append(subscribed)
                tasks.append(asyncio.create_task(socketio_client(
                    replicas[i % len(replicas)].url, token, room, arrivals, i == 0, subscribed)))
            await asyncio.wait_for(asyncio.gather(*futures), 60)
    connect_seconds = time.perf_counter() - started
    latencies: list[float] = []
    spreads: list[float] = []  # arrival − the first arrival of the same envelope: the fan-out alone
    missing = 0
    async with httpx.AsyncClient(base_url=replicas[0].url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=30) as client:
        await asyncio.sleep(0.5)
        for n in range(rounds + 1):  # the first round warms up and is not counted
            before = set(arrivals.times)
            response = await client.patch(f"/api/v1/agents/{agent_id}", json={"role": f"r{n}-{uuid.uuid4().hex[:4]}"})
            response.raise_for_status()
            deadline = time.monotonic() + ROUND_TIMEOUT
            while time.monotonic() < deadline:
                new = [i for i in arrivals.times if i not in before]
                if new and len(arrivals.times[new[0]]) >= clients and new[0] in arrivals.ts:
                    break
                await asyncio.sleep(0.01)
            new = [i for i in arrivals.times if i not in before]
            if not new:
                missing += clients
                continue
            got = arrivals.times[new[0]]
            missing += clients - len(got)
            if n and new[0] in arrivals.ts:
                latencies += [(at - arrivals.ts[new[0]]) * 1000 for at in got]
                spreads += [(at - min(got)) * 1000 for at in got]
            await asyncio.sleep(0.2)
    for transport in transports:
        transport.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(1.0)  # let the servers notice
    transport = 'SSE' if kind == 'sse' else 'Socket.IO'
    label = f"{transport} x {clients:>5}, {len(replicas)} replica{'s' * (len(replicas) > 1)}"
    if not latencies:
        return f"{label}: nothing delivered"
    return (f"{label}: p50 {statistics.median(latencies):6.1f} ms  p99 {percentile(latencies, 0.99):6.1f} ms  "
            f"max {max(latencies):6.1f} ms; fan-out spread p99 {percentile(spreads, 0.99):6.1f} ms  "
            f"({len(latencies)} deliveries, {missing} missing; "
            f"subscribed in {connect_seconds:.1f} s)")


async def create_database() -> tuple[str, str]:
    name = f"agyn_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return POSTGRES_URL.rpartition("/")[0] + f"/{name}", name


async def drop_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def run_topology(replica_count: int, sse_sizes: list[int], socketio_sizes: list[int], rounds: int) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
    env["AGYN_LOG_LEVEL"] = "warning"
    database = None
    with tempfile.TemporaryDirectory(prefix="agyn-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        if replica_count > 1:
            url, database = asyncio.run(create_database())
            env.update(AGYN_DATABASE_URL=url, AGYN_REDIS_URL=REDIS_URL,
                       AGYN_NOTIFICATIONS__REDIS_CHANNEL=f"agyn.bench.{uuid.uuid4().hex}")
            subprocess.run([str(AGYN), "db", "upgrade", "--data-dir", str(data_dir)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        replicas = [Replica(data_dir, env)]
        try:
            token = (data_dir / "admin-token").read_text().strip()
            agent_id = create_agent(replicas[0].url, token)
            # later replicas start once the agent exists (the embedded authorization index loads at start)
            replicas += [Replica(data_dir, env) for _ in range(replica_count - 1)]
            results = []
            for kind, sizes in (("sse", sse_sizes), ("socketio", socketio_sizes)):
                for size in sizes:
                    line = asyncio.run(scenario(replicas, token, agent_id, kind, size, rounds))
                    print(line, flush=True)
                    results.append(line)
            return results
        finally:
            for replica in replicas:
                replica.stop()
            if database is not None:
                asyncio.run(drop_database(database))


def sizes(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sse", default="100,1000,5000", help="SSE subscriber counts")
    parser.add_argument("--socketio", default="1000", help="Socket.IO client counts")
    parser.add_argument("--rounds", type=int, default=20, help="events per scenario")
    parser.add_argument("--replicas", default="1,2", help="topologies: 1 (SQLite), 2 (PostgreSQL + Redis)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so the servers and the database are cleaned up
    raise_file_limit()
    print(f"notifications fan-out, {args.rounds} events per scenario, delivery = arrival − envelope ts "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)", flush=True)
    for count in sizes(args.replicas):
        run_topology(count, sizes(args.sse), sizes(args.socketio), args.rounds)


if __name__ == "__main__":
    main()
