"""Control API throughput: authorized `GET /api/v1/agents/{id}` against one `agyn serve` worker.

Starts the platform (SQLite, embedded authorization) on a free port in a temporary data dir,
creates an organization, an LLM provider, a model and an agent, then keeps CONCURRENCY requests in
flight for DURATION seconds from a separate load process and prints requests per second and
latency percentiles (SPEC §10 target: ≥ 1,500 req/s with one worker). The load generator shares
the machine's cores with the server, so the figure is a lower bound.

    python benchmarks/control_api.py [--duration 10] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

AGYN = Path(sys.executable).with_name("agyn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_platform(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AGYN_LOG_LEVEL": "warning"}
    process = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(data_dir), "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("agyn serve did not become healthy within 30 s")


def create_agent(base: str, token: str) -> str:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
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


async def load(url: str, token: str, duration: float, concurrency: int) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}, limits=limits) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"GET answered {response.status_code}: {response.text}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def run_load(url: str, token: str, duration: float, concurrency: int, queue: multiprocessing.Queue) -> None:
    queue.put(asyncio.run(load(url, token, duration, concurrency)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        port = free_port()
        platform = start_platform(Path(scratch), port)
        try:
            base = f"http://127.0.0.1:{port}"
            token = (Path(scratch) / "admin-token").read_text().strip()
            url = f"{base}/api/v1/agents/{create_agent(base, token)}"
            run_load(url, token, 2.0, args.concurrency, multiprocessing.Queue())  # warm up
            queue: multiprocessing.Queue = multiprocessing.Queue()
            loader = multiprocessing.Process(target=run_load, args=(url, token, args.duration, args.concurrency, queue))
            loader.start()
            latencies = queue.get()
            loader.join()
        finally:
            platform.terminate()
            platform.wait(timeout=10)
    latencies.sort()
    count = len(latencies)
    print(f"GET /api/v1/agents/{{id}}, one worker, {args.concurrency} in flight, {args.duration:.0f} s:")
    print(f"  {count / args.duration:,.0f} req/s (target >= 1,500)")
    print(f"  latency p50 {statistics.median(latencies) * 1000:.2f} ms, "
          f"p99 {latencies[int(count * 0.99) - 1] * 1000:.2f} ms")


if __name__ == "__main__":
    main()
