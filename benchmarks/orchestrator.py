"""The orchestrator: how long one reconcile pass takes, and how soon a message starts a workload.

    python benchmarks/orchestrator.py [--postgres postgresql://root@127.0.0.1:5432/postgres]
                                      [--threads 1000] [--running 200] [--passes 30] [--messages 50]

Builds a platform in this process on a scratch database (SQLite in a temporary dir, or a fresh database
on the PostgreSQL server), with one organization, one agent and `--threads` threads between a user and
the agent; `--running` of them have an unacked message and a running workload. Workloads run on an
in-memory runtime (start and inspect cost nothing), so the figures are the orchestrator's own: its
queries, its decisions, its writes. Then it prints:

  - p50/p99 of a reconcile pass over that world (nothing to do but look: the steady state);
  - p50/p99 from `message.created` (a message to an idle thread, sent through the API) to the
    workload's `workload.updated` with status `starting` (target <= 50 ms), with the orchestrator's
    loop running as in `agyn serve`.

The load shares the machine's cores with the database: figures are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from served import percentile
from sqlalchemy import select, update

from agyn.app import create_app
from agyn.kit.events import Event
from agyn.kit.principal import IdentityType, Principal
from agyn.orchestrator.loop import OrchestratorLoop
from agyn.orchestrator.service import Orchestrator
from agyn.runners.models import Workload
from agyn.runners.runtime import Observed, WorkloadSpec
from agyn.runners.workloads import WorkloadsService
from agyn.settings import Settings, normalise_database_url
from agyn.threads.models import Recipient
from agyn.threads.schemas import MessageCreate
from agyn.threads.service import ThreadsService

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class MemoryRuntime:
    """A runner whose workloads start at once and run until stopped."""

    def __init__(self) -> None:
        self.running: set[uuid.UUID] = set()

    async def start(self, spec: WorkloadSpec) -> None:
        self.running.add(spec.workload_id)

    async def inspect(self, workload_id: uuid.UUID) -> Observed:
        return Observed(workload_id, "running" if workload_id in self.running else "lost")

    async def stop(self, workload_id: uuid.UUID) -> None:
        self.running.discard(workload_id)

    async def list(self) -> list[uuid.UUID]:
        return list(self.running)

    async def logs(self, workload_id: uuid.UUID, container: str, follow: bool) -> AsyncIterator[bytes]:
        yield b""


def percentiles(samples: list[float]) -> str:
    return (f"p50 {statistics.median(samples) * 1000:7.1f} ms   p99 {percentile(samples, 0.99) * 1000:7.1f} ms   "
            f"(n={len(samples)})")


async def scratch_database(server: str | None, directory: Path) -> tuple[str, str | None]:
    if server is None:
        return f"sqlite+aiosqlite:///{directory / 'bench.db'}", None
    name = f"agyn_bench_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return normalise_database_url(f"{server.rpartition('/')[0]}/{name}"), name


async def drop_database(server: str, name: str) -> None:
    connection = await asyncpg.connect(server)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def build_world(client: httpx.AsyncClient, admin: dict[str, str], platform: Any, threads: int,
                      running: int) -> tuple[dict[str, str], str, list[uuid.UUID]]:
    async def ok(response: Any, status: int = 201) -> dict[str, Any]:
        result = await response
        assert result.status_code == status, result.text
        body: dict[str, Any] = result.json()
        return body

    user = await ok(client.post("/api/v1/users", headers=admin, json={"oidc_subject": "b|ann", "username": "ann"}))
    token = (await ok(client.post(f"/api/v1/users/{user['id']}/api-tokens", headers=admin, json={"name": "b"})))
    ann = {"Authorization": f"Bearer {token['token']}"}
    org = await ok(client.post("/api/v1/organizations", headers=ann, json={"name": "bench"}))
    provider = await ok(client.post("/api/v1/llm-providers", headers=ann, json={
        "organization_id": org["id"], "endpoint": "https://llm.example", "auth_method": "bearer", "token": "sk"}))
    model = await ok(client.post("/api/v1/models", headers=ann, json={
        "organization_id": org["id"], "name": "m", "llm_provider_id": provider["id"], "remote_name": "m"}))
    agent = await ok(client.post("/api/v1/agents", headers=ann, json={
        "organization_id": org["id"], "name": "helper", "nickname": "helper", "role": "assistant",
        "model": model["id"], "availability": "internal", "idle_timeout": "1h"}))
    service = platform.get(ThreadsService)
    principal = Principal(uuid.UUID(user["id"]), IdentityType.user)
    ids: list[uuid.UUID] = []
    async with platform.database.transaction() as session:
        for index in range(threads):
            thread = await service.create(session, principal, uuid.UUID(org["id"]), [agent["id"]])
            ids.append(thread.id)
            if index < running:
                await service.send(session, principal, thread, MessageCreate(body="work"), authorized=True)
    return ann, agent["id"], ids


async def main(arguments: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        url, name = await scratch_database(arguments.postgres, Path(scratch))
        try:
            if name is not None:
                from agyn import migrations
                from agyn.kit.db import Database

                database = Database(url)
                await migrations.upgrade(database)
                await database.dispose()
            await run(arguments, url, Path(scratch))
        finally:
            if name is not None:
                await drop_database(arguments.postgres, name)


async def run(arguments: argparse.Namespace, url: str, scratch: Path) -> None:
    settings = Settings(data_dir=scratch / "data", database_url=url, log_level="warning", log_format="text",
                        orchestrator={"enabled": True, "tick_seconds": 5.0}, runner={"embedded": True})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        platform = app.state.platform
        orchestrator = platform.get(Orchestrator)
        runtime = MemoryRuntime()
        assert orchestrator.local_runner_id is not None
        platform.get(WorkloadsService).runtimes.register(orchestrator.local_runner_id, runtime)
        loop = platform.get(OrchestratorLoop)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            admin = {"Authorization": f"Bearer {settings.admin_token_path.read_text().strip()}"}
            began = time.perf_counter()
            ann, agent_id, threads = await build_world(client, admin, platform, arguments.threads,
                                                       arguments.running)
            await eventually_running(platform, arguments.running)
            print(f"world: {arguments.threads} threads, {arguments.running} running workloads "
                  f"({platform.database.engine.dialect.name}; built in {time.perf_counter() - began:.1f} s)")

            samples = []
            for _ in range(arguments.passes):
                report = await orchestrator.reconcile_once()
                assert not report.started, report
                samples.append(report.seconds)
            print(f"reconcile pass (steady state):              {percentiles(samples)}")

            latencies = await start_latency(client, ann, platform, threads[arguments.running:], arguments.messages)
            print(f"message.created -> workload starting:       {percentiles(latencies)}")
            await loop.stop()


async def eventually_running(platform: Any, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        async with platform.database.transaction() as session:
            found = len((await session.scalars(select(Workload.id).where(Workload.status == "running"))).all())
        if found >= count:
            return
        await asyncio.sleep(0.2)
    raise SystemExit(f"only {found} of {count} workloads came up")


async def start_latency(client: httpx.AsyncClient, ann: dict[str, str], platform: Any, idle: list[uuid.UUID],
                        count: int) -> list[float]:
    created: dict[str, float] = {}
    starting: dict[str, float] = {}

    async def on_message(event: Event) -> None:
        created.setdefault(event.payload["thread_id"], time.perf_counter())

    async def on_workload(event: Event) -> None:
        if event.payload["status"] == "starting":
            starting.setdefault(event.payload["thread_id"], time.perf_counter())

    platform.events.subscribe("message.created", on_message)
    platform.events.subscribe("workload.updated", on_workload)
    latencies = []
    for thread_id in idle[:count]:
        key = str(thread_id)
        response = await client.post(f"/api/v1/threads/{thread_id}/messages", headers=ann, json={"body": "go"})
        assert response.status_code == 201, response.text
        deadline = time.monotonic() + 10
        while key not in starting and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        latencies.append(starting[key] - created[key])
        async with platform.database.transaction() as session:  # answered: the pair has nothing left to do
            await session.execute(update(Recipient).where(Recipient.thread_id == thread_id)
                                  .values(acked_at=platform.clock.now()))
    return latencies


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="a PostgreSQL server URL (a scratch database is created and dropped)")
    parser.add_argument("--threads", type=int, default=1000)
    parser.add_argument("--running", type=int, default=200)
    parser.add_argument("--passes", type=int, default=30)
    parser.add_argument("--messages", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
