"""Chat round trip: a message posted → the agent's reply seen by the subscribed user (SSE).

    python benchmarks/chat_roundtrip.py [--messages 200] [--cold 5] [--database-url URL]

Starts `agyn serve` on a fresh data dir (its orchestrator and local runner run each workload's
`agyn agent-runtime`; its test LLM answers from a suite this script writes), then measures:

- warm: one conversation whose workload is already running, `--messages` messages one after the other
  (p50, p99, max);
- cold: the first message of a new conversation, no workload yet (the orchestrator starts one);
- cold with one MCP tool call: the same, the agent calling a tool of its MCP server once.

The user listens to `thread_participant:me` over SSE and the clock stops at the reply's
`message.created`. Targets (issue 12): warm p50 <= 50 ms, p99 <= 200 ms; cold <= 1.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
AGYN = Path(sys.executable).with_name("agyn")
WEATHER = '{"temperature": "18°C", "condition": "partly cloudy"}'


def suite(turns: int) -> str:
    """A `bench` suite: `chat` answers `turns` messages of one conversation (its history echoed back), `tool`
    calls get_weather once, `hello` answers once."""
    chat = []
    for turn in range(turns):
        chat += [{"type": "message", "role": "user", "any_content": True},
                 {"type": "message", "role": "assistant", "content": f"reply {turn}"}]
    tool = [{"type": "message", "role": "user", "any_content": True},
            {"type": "function_call", "call_id": "fc_1", "name": "get_weather", "arguments": '{"location": "Paris"}'},
            {"type": "function_call_output", "call_id": "fc_1", "output": WEATHER},
            {"type": "message", "role": "assistant", "content": "18°C in Paris."}]
    hello = [{"type": "message", "role": "user", "any_content": True},
             {"type": "message", "role": "assistant", "content": "hello"}]
    return json.dumps({"name": "bench", "protocol": "openai", "tests": {"chat": chat, "tool": tool, "hello": hello}})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Platform:
    def __init__(self, workdir: Path, database_url: str | None, turns: int) -> None:
        suites = workdir / "suites"
        suites.mkdir()
        (suites / "bench.yaml").write_text(suite(turns))  # JSON is YAML
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
        env.update(AGYN_TESTLLM__SUITES_DIR=str(suites), AGYN_LOG_LEVEL="warning", PYTHONPATH=str(REPO),
                   PATH=f"{AGYN.parent}{os.pathsep}{env.get('PATH', '')}", AGYN_CLIENT_CONFIG="/nonexistent")
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


def setup(platform: Platform) -> dict[str, Any]:
    admin = httpx.Client(base_url=platform.url, headers={"Authorization": f"Bearer {platform.admin}"}, timeout=30)
    user = admin.post("/api/v1/users", json={"oidc_subject": "bench|user", "username": "bench"}).json()
    token = admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "bench"}).json()["token"]
    api = httpx.Client(base_url=platform.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    org = api.post("/api/v1/organizations", json={"name": "bench"}).json()["id"]
    provider = api.post("/api/v1/llm-providers", json={
        "organization_id": org, "name": "test-llm", "endpoint": f"{platform.url}/testllm/bench/v1",
        "protocol": "responses", "auth_method": "bearer", "token": "unused"}).json()["id"]
    agents = {}
    for test in ("chat", "tool", "hello"):
        model = api.post("/api/v1/models", json={"organization_id": org, "name": test, "llm_provider_id": provider,
                                                 "remote_name": test}).json()["id"]
        agent = api.post("/api/v1/agents", json={"organization_id": org, "name": test, "nickname": f"bench-{test}",
                                                 "role": "assistant", "model": model,
                                                 "availability": "internal"}).json()
        agents[test] = agent["id"]
    created = api.post("/api/v1/mcps", json={"agent_id": agents["tool"], "name": "weather",
                                             "command": f"{sys.executable} -m tests.agent_runtime.mcp_servers weather"})
    created.raise_for_status()
    return {"token": token, "org": org, "agents": agents, "me": user["id"]}


class Listener:
    """The user's SSE stream; `wait(thread)` returns when an agent's message lands in that thread."""

    def __init__(self, url: str, token: str, me: str) -> None:
        self.url, self.token, self.me = url, token, me
        self.arrived: dict[str, asyncio.Event] = {}
        self.ready = asyncio.Event()

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, read=None)) as client, client.stream(
                "GET", f"{self.url}/api/v1/events", params={"rooms": "thread_participant:me"},
                headers=headers) as response:
            self.ready.set()
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    payload = json.loads(line[5:]).get("payload", {})
                    if payload.get("sender_id") != self.me and payload.get("thread_id") in self.arrived:
                        self.arrived[payload["thread_id"]].set()

    def expect(self, thread_id: str) -> asyncio.Event:
        self.arrived[thread_id] = asyncio.Event()
        return self.arrived[thread_id]


async def roundtrip(client: httpx.AsyncClient, listener: Listener, thread_id: str, body: str) -> float:
    arrived = listener.expect(thread_id)
    started = time.perf_counter()
    response = await client.post(f"/api/v1/threads/{thread_id}/messages", json={"body": body})
    response.raise_for_status()
    await asyncio.wait_for(arrived.wait(), 60)
    return (time.perf_counter() - started) * 1000


async def measure(platform: Platform, world: dict[str, Any], messages: int, cold: int) -> None:
    listener = Listener(platform.url, world["token"], world["me"])
    task = asyncio.create_task(listener.run())
    await listener.ready.wait()
    async with httpx.AsyncClient(base_url=platform.url, headers={"Authorization": f"Bearer {world['token']}"},
                                 timeout=30) as client:

        async def thread(agent: str) -> str:
            created = await client.post("/api/v1/threads", json={"organization_id": world["org"],
                                                                 "participants": [world["agents"][agent]]})
            created.raise_for_status()
            return str(created.json()["id"])

        chat = await thread("chat")
        first = await roundtrip(client, listener, chat, "warm up")  # starts the workload
        warm = [await roundtrip(client, listener, chat, f"message {i}") for i in range(messages)]
        colds = [await roundtrip(client, listener, await thread("hello"), "hi") for _ in range(cold)]
        tools = [await roundtrip(client, listener, await thread("tool"), "weather?") for _ in range(cold)]
    task.cancel()
    warm.sort()
    print(f"warm round trip over {messages} messages: p50 {statistics.median(warm):.1f} ms, "
          f"p99 {warm[max(0, int(len(warm) * 0.99) - 1)]:.1f} ms, max {warm[-1]:.1f} ms "
          f"(first message with its workload start: {first:.0f} ms)")
    print(f"cold start, first message → reply: median {statistics.median(colds):.0f} ms, "
          f"min {min(colds):.0f} ms, max {max(colds):.0f} ms over {cold}")
    print(f"cold start with one MCP tool call: median {statistics.median(tools):.0f} ms, "
          f"min {min(tools):.0f} ms, max {max(tools):.0f} ms over {cold}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--database-url", help="a fresh PostgreSQL database (default: SQLite in a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the data dir (workload logs) and say where")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix=f"agyn-bench-{uuid.uuid4().hex[:6]}-"))
    platform = Platform(workdir, args.database_url, args.messages + 1)
    try:
        asyncio.run(measure(platform, setup(platform), args.messages, args.cold))
    finally:
        platform.stop()
        if args.keep:
            print(f"kept: {workdir}/data (workloads' logs), {workdir}/serve.log")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
