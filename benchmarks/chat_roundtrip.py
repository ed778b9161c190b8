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
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from served import AGYN, ServedPlatform, cpu_ms, percentile

REPO = Path(__file__).resolve().parent.parent
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


class Platform(ServedPlatform):
    def __init__(self, workdir: Path, database_url: str | None, turns: int) -> None:
        suites = workdir / "suites"
        suites.mkdir()
        (suites / "bench.yaml").write_text(suite(turns))  # JSON is YAML
        super().__init__(workdir, database_url, AGYN_TESTLLM__SUITES_DIR=str(suites), PYTHONPATH=str(REPO),
                         PATH=f"{AGYN.parent}{os.pathsep}{os.environ.get('PATH', '')}")


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
        # the whole conversation fits the budget: a warm turn is one model call, not a summary first
        agent = api.post("/api/v1/agents", json={"organization_id": org, "name": test, "nickname": f"bench-{test}",
                                                 "role": "assistant", "model": model, "availability": "internal",
                                                 "configuration": {"summarization": {"max_tokens": 10**7}}}).json()
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


async def expect_scripted_replies(client: httpx.AsyncClient, thread_id: str, count: int) -> None:
    """Every message was answered by the script, not by an error message (which arrives just as fast)."""
    replies, token = [], None
    while True:
        page = (await client.get(f"/api/v1/threads/{thread_id}/messages",
                                 params={"page_size": 100, **({"page_token": token} if token else {})})).json()
        replies += [m["body"] for m in page["items"] if m["body"] != "warm up" and not m["body"].startswith("message ")]
        token = page.get("next_page_token")
        if not token:
            break
    wrong = [body for body in replies if not body.startswith("reply ")]
    if len(replies) != count or wrong:
        sys.exit(f"error: {len(replies)} replies for {count} messages, {len(wrong)} not scripted: {wrong[:3]}")


def runtimes_of(server_pid: int) -> list[int]:
    """The `agyn agent-runtime` processes the platform's local runner started (its descendants)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, ValueError):
                continue

    def descends(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == server_pid:
                return True
        return False

    found = []
    for pid in parents:
        try:
            if descends(pid) and b"agent-runtime" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def fields(line: str) -> dict[str, str]:
    """The key=value extras of a text log line."""
    return dict(pair.split("=", 1) for pair in line.split() if "=" in pair and not pair.startswith("="))


def at(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


async def cold_roundtrip(client: httpx.AsyncClient, listener: Listener, thread_id: str,
                         body: str) -> tuple[float, dict[str, float]]:
    """A first message → reply, and where its time went: the workload's timestamps, and the runtime's
    own account of its start (its log's `serving` and `first reply posted` lines)."""
    posted = time.time()
    total = await roundtrip(client, listener, thread_id, body)
    seen = posted + total / 1000
    [workload] = (await client.get("/api/v1/workloads", params={"thread_id": thread_id})).json()["items"]
    replies = (await client.get(f"/api/v1/threads/{thread_id}/messages")).json()["items"]
    for _ in range(100):  # the runtime logs its reply once the POST returned: maybe after the user saw it
        logs = (await client.get(f"/api/v1/workloads/{workload['id']}/logs")).text.splitlines()
        if any("first reply posted" in line for line in logs):
            break
        await asyncio.sleep(0.05)
    serving = fields(next(line for line in logs if "agent runtime serving" in line))
    replied = fields(next(line for line in logs if "first reply posted" in line))
    reply_posted, created = at(replies[-1]["created_at"]), at(workload["created_at"])
    since_start = float(replied["since_process_start_ms"])  # logged once the reply's POST returned
    process_start = reply_posted - since_start / 1000
    steps = {
        "message → workload row (orchestrator)": (created - posted) * 1000,
        "workload row → runtime process started (runner)": (process_start - created) * 1000,
        "interpreter and imports": float(serving["imports_ms"]),
        "configuration and waiting messages": float(serving["configuration_ms"]),
        "MCP tools connected": float(serving["tools_ms"]),
        "first turn → reply posted": since_start - float(serving["since_process_start_ms"]),
        "reply posted → user notified": (seen - reply_posted) * 1000,
    }
    return total, steps


def print_steps(title: str, runs: list[dict[str, float]]) -> None:
    print(f"  {title}, median per step (ms):")
    for step in runs[0]:
        print(f"    {step:<40} {statistics.median(run[step] for run in runs):7.0f}")


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
        server, [runtime] = platform.process.pid, runtimes_of(platform.process.pid)
        cpu_before = cpu_ms(server), cpu_ms(runtime)
        warm = [await roundtrip(client, listener, chat, f"message {i}") for i in range(messages)]
        cpu = [(after - before) / messages for before, after in zip(cpu_before, (cpu_ms(server), cpu_ms(runtime)),
                                                                    strict=True)]
        await expect_scripted_replies(client, chat, messages + 1)
        hello = [await cold_roundtrip(client, listener, await thread("hello"), "hi") for _ in range(cold)]
        tool = [await cold_roundtrip(client, listener, await thread("tool"), "weather?") for _ in range(cold)]
    colds, tools = [total for total, _ in hello], [total for total, _ in tool]
    task.cancel()
    warm.sort()
    print(f"warm round trip over {messages} messages: p50 {statistics.median(warm):.1f} ms, "
          f"p99 {percentile(warm, 0.99):.1f} ms, max {warm[-1]:.1f} ms "
          f"(first message with its workload start: {first:.0f} ms)")
    print(f"  CPU per warm round trip: platform {cpu[0]:.1f} ms, agent runtime {cpu[1]:.1f} ms "
          "(steadier than the wall clock on a shared machine)")
    if cold:
        print(f"cold start, first message → reply: median {statistics.median(colds):.0f} ms, "
              f"min {min(colds):.0f} ms, max {max(colds):.0f} ms over {cold}")
        print_steps("cold start", [steps for _, steps in hello])
        print(f"cold start with one MCP tool call: median {statistics.median(tools):.0f} ms, "
              f"min {min(tools):.0f} ms, max {max(tools):.0f} ms over {cold}")
        print_steps("cold start with one MCP tool call", [steps for _, steps in tool])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--cold", type=int, default=5, help="cold starts to measure (0: none)")
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
