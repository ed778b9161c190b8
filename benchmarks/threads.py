"""Threads and chat on PostgreSQL with many messages: read latency and send throughput.

    python benchmarks/threads.py [--postgres postgresql://root@127.0.0.1:5432/postgres]
                                 [--messages 100000] [--threads 1000] [--users 200]

The issue's full size is `--messages 1000000 --threads 10000` (a few minutes to load). The script
creates a scratch database on the server, starts `agyn serve` on it to create the organization and
its users through the API, bulk-loads threads (two users each), messages and their deliveries with
COPY (every delivery acknowledged but each thread's last two, as in a live system), restarts the
platform, then prints:

  - p50/p99 of `GET /me` (the floor every request pays), `GET /api/v1/me/unacked-messages` and
    `GET /api/v1/conversations` (one request at a time, random users; target p50 <= 10 ms);
  - sends per second of `POST /api/v1/threads/{id}/messages` with CONCURRENCY in flight.

The load generator shares the machine's cores with the server and PostgreSQL: figures are lower bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from served import percentile

from agyn.kit.ids import uuid7

AGYN = Path(sys.executable).with_name("agyn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_platform(data_dir: Path, port: int, database_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AGYN_LOG_LEVEL": "warning", "AGYN_DATABASE_URL": database_url}
    process = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(data_dir), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("agyn serve did not become healthy within 60 s")


def stop_platform(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=20)


def create_people(base: str, token: str, users: int) -> tuple[str, list[tuple[str, str]]]:
    """The organization and its users (id, token), through the API."""
    people = []
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as admin:
        org = admin.post("/api/v1/organizations", json={"name": "bench"}).json()["id"]
        for i in range(users):
            user = admin.post("/api/v1/users", json={"oidc_subject": f"bench|{i}", "username": f"u{i}"}).json()
            secret = admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "bench"}).json()["token"]
            membership = admin.post("/api/v1/memberships", json={"organization_id": org, "identity_id": user["id"]})
            membership.raise_for_status()
            people.append((user["id"], secret))
    return org, people


async def bulk_load(url: str, org: str, people: list[tuple[str, str]], threads: int, messages: int,
                    seed: int) -> dict[str, list[str]]:
    """Threads between two users, their messages and deliveries; returns each user's thread ids."""
    rng = random.Random(seed)
    connection = await asyncpg.connect(url)
    per_thread = max(1, messages // threads)
    start = datetime.now(UTC) - timedelta(days=30)
    mine: dict[str, list[str]] = {user_id: [] for user_id, _ in people}
    thread_rows, participant_rows, tuple_rows = [], [], []
    message_rows: list[tuple[Any, ...]] = []
    recipient_rows: list[tuple[Any, ...]] = []
    org_id = uuid.UUID(org)
    try:
        for t in range(threads):
            a, b = rng.sample(people, 2)
            pair = [uuid.UUID(a[0]), uuid.UUID(b[0])]
            created = start + timedelta(seconds=t)
            thread_id = uuid7()
            thread_rows.append((thread_id, org_id, "active", None, pair[0], created, created, 1))
            for identity_id in pair:
                participant_rows.append((thread_id, identity_id, created))
                tuple_rows.append((f"thread:{thread_id}", "participant", f"identity:{identity_id}", created))
                mine[str(identity_id)].append(str(thread_id))
            tuple_rows.append((f"thread:{thread_id}", "org", f"organization:{org}", created))
            for m in range(per_thread):
                sender = pair[m % 2]
                message_id = uuid7()
                at = created + timedelta(milliseconds=m)
                message_rows.append((message_id, thread_id, sender, f"message {m} of thread {t}", "[]", at))
                acked = None if m >= per_thread - 2 else at
                recipient_rows.append((message_id, pair[(m + 1) % 2], thread_id, acked))
            if len(message_rows) >= 200_000:
                await _flush(connection, thread_rows, participant_rows, tuple_rows, message_rows, recipient_rows)
        await _flush(connection, thread_rows, participant_rows, tuple_rows, message_rows, recipient_rows)
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return mine


async def _flush(connection: asyncpg.Connection, *batches: list[tuple[Any, ...]]) -> None:
    threads, participants, tuples, messages, recipients = batches
    await connection.copy_records_to_table("threads", records=threads, columns=[
        "id", "organization_id", "status", "degraded_reason", "created_by", "created_at", "updated_at", "version"])
    await connection.copy_records_to_table("thread_participants", records=participants,
                                           columns=["thread_id", "identity_id", "joined_at"])
    await connection.copy_records_to_table("authorization_tuples", records=tuples,
                                           columns=["object", "relation", "user", "created_at"])
    await connection.copy_records_to_table("messages", records=messages, columns=[
        "id", "thread_id", "sender_id", "body", "file_ids", "created_at"])
    await connection.copy_records_to_table("message_recipients", records=recipients,
                                           columns=["message_id", "participant_id", "thread_id", "acked_at"])
    for batch in batches:
        batch.clear()


def latencies(base: str, people: list[tuple[str, str]], path: str, count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    clients = {token: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
               for _, token in people}
    measured = []
    try:
        for _, token in people:  # warm: connections, token cache
            clients[token].get(path).raise_for_status()
        for _ in range(count):
            client = clients[rng.choice(people)[1]]
            started = time.perf_counter()
            response = client.get(path, params={"page_size": 50})
            measured.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"GET {path} answered {response.status_code}: {response.text}")
    finally:
        for client in clients.values():
            client.close()
    return sorted(measured)


async def sends(base: str, people: list[tuple[str, str]], mine: dict[str, list[str]], duration: float,
                concurrency: int, seed: int) -> int:
    rng = random.Random(seed)
    sent = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal sent
            while time.perf_counter() < deadline:
                user_id, token = rng.choice(people)
                if not mine[user_id]:
                    continue
                thread_id = rng.choice(mine[user_id])
                response = await client.post(f"/api/v1/threads/{thread_id}/messages", json={"body": "benchmark"},
                                             headers={"Authorization": f"Bearer {token}"})
                if response.status_code != 201:
                    raise SystemExit(f"send answered {response.status_code}: {response.text}")
                sent += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("AGYN_TEST_POSTGRES_URL",
                                                             "postgresql://root@127.0.0.1:5432/postgres"))
    parser.add_argument("--messages", type=int, default=100_000, help="full size: 1000000")
    parser.add_argument("--threads", type=int, default=1_000, help="full size: 10000")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--requests", type=int, default=500, help="timed requests per read endpoint")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of sending")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (its name is printed)")
    args = parser.parse_args()

    name = f"agyn_bench_{uuid.uuid4().hex[:8]}"
    server, _, _ = args.postgres.rpartition("/")
    database_url = f"{server}/{name}"

    async def create() -> None:
        connection = await asyncpg.connect(args.postgres)
        await connection.execute(f'CREATE DATABASE "{name}"')
        await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(args.postgres)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    asyncio.run(create())
    try:
        env = {**os.environ, "AGYN_DATABASE_URL": database_url}
        subprocess.run([str(AGYN), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
        with tempfile.TemporaryDirectory() as scratch:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            platform = start_platform(Path(scratch), port, database_url)
            try:
                token = (Path(scratch) / "admin-token").read_text().strip()
                org, people = create_people(base, token, args.users)
            finally:
                stop_platform(platform)
            loading = time.perf_counter()
            mine = asyncio.run(bulk_load(database_url, org, people, args.threads, args.messages, args.seed))
            print(f"loaded {args.messages:,} messages in {args.threads:,} threads between {args.users} users "
                  f"in {time.perf_counter() - loading:.0f} s")
            platform = start_platform(Path(scratch), port, database_url)
            try:
                for path in ("/me", "/api/v1/me/unacked-messages", "/api/v1/conversations"):
                    measured = latencies(base, people, path, args.requests, args.seed)
                    what = "" if path == "/me" else " (page of 50)"
                    print(f"GET {path}{what}: p50 {statistics.median(measured) * 1000:.2f} ms, "
                          f"p99 {percentile(measured, 0.99) * 1000:.2f} ms over {len(measured)} requests "
                          + ("(the floor: authentication alone)" if path == "/me" else "(target p50 <= 10 ms)"))
                sent = asyncio.run(sends(base, people, mine, args.duration, args.concurrency, args.seed))
                print(f"POST /api/v1/threads/{{id}}/messages: {sent / args.duration:,.0f} sends/s "
                      f"({args.concurrency} in flight, {args.duration:.0f} s)")
            finally:
                stop_platform(platform)
    finally:
        if args.keep:
            print(f"kept the database {name}")
        else:
            asyncio.run(drop())


if __name__ == "__main__":
    main()
