"""The whole path with the platform's own orchestrator and local runner: a person writes to an agent with an
MCP tool, a workload starts running `agyn agent-runtime` (the default runtime command) and the reply comes
back through the LLM proxy and the platform's test LLM."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pexpect
import pytest

from tests.agent_runtime.conftest import ProxyWorld, Server, make_proxy_world, platform_process
from tests.agent_runtime.test_chat import spawn_chat
from tests.agent_runtime.test_daemon import make_agent, messages, owner, send, thread_with

REPLY_TIMEOUT = 90.0


@pytest.fixture(scope="module")
async def orchestrated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                       ) -> AsyncIterator[Server]:
    async with platform_process("sqlite", tmp_path_factory.mktemp("platform"),
                                AGYN_ORCHESTRATOR__TICK_SECONDS="0.5") as found:
        yield found


async def test_a_message_to_an_agent_with_an_mcp_tool_gets_its_reply(orchestrated: Server, tmp_path: Path) -> None:
    world: ProxyWorld = make_proxy_world(orchestrated, ["runtime/quick-mcp"])
    agent = make_agent(world, "runtime/quick-mcp")
    mcp = orchestrated.api.post("/api/v1/mcps", headers=owner(world), json={
        "agent_id": agent["id"], "name": "weather", "command": "python3 -m tests.agent_runtime.mcp_servers weather"})
    assert mcp.status_code == 201, mcp.text
    thread_id = thread_with(world, agent)
    send(world, thread_id, "what is the weather in Paris?")
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline and len(found := messages(world, thread_id)) < 2:
        time.sleep(0.1)
    assert [(m["sender_id"], m["body"]) for m in found[1:]] == [(agent["id"], "18°C and partly cloudy in Paris.")], (
        orchestrated.logs[-3000:])
    workloads = orchestrated.api.get("/api/v1/workloads", headers=owner(world),
                                     params={"organization_id": world.organization_id})
    assert workloads.status_code == 200 and workloads.json()["items"], workloads.text


def runtime_pids(thread_id: str) -> list[int]:
    """The `agyn agent-runtime` processes serving this thread (the local runner started them for the test's
    platform)."""
    found: list[int] = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"agent-runtime" in cmdline and f"AGYN_THREAD_ID={thread_id}".encode() in environ:
            found.append(int(proc.name))
    return found


async def test_kill_9_mid_turn_redelivers_and_one_reply_is_posted(orchestrated: Server, tmp_path: Path) -> None:
    world: ProxyWorld = make_proxy_world(orchestrated, ["runtime/slow-tool"])
    agent = make_agent(world, "runtime/slow-tool")
    slow_log = tmp_path / "slow.log"
    mcp = orchestrated.api.post("/api/v1/mcps", headers=owner(world), json={
        "agent_id": agent["id"], "name": "slow", "command": "python3 -m tests.agent_runtime.mcp_servers slow",
        "env": {"MCP_SLOW_LOG": str(slow_log)}})
    assert mcp.status_code == 201, mcp.text
    thread_id = thread_with(world, agent)
    send(world, thread_id, "please take your time")
    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline and not (slow_log.exists() and "start" in slow_log.read_text()):
        time.sleep(0.05)
    pids = runtime_pids(thread_id)
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGKILL)  # mid-turn: the tool is running, nothing is posted or acked yet
    while time.monotonic() < deadline and len(found := messages(world, thread_id)) < 2:
        time.sleep(0.1)
    time.sleep(1.0)  # a second reply, if one were coming, would be posted by now
    found = messages(world, thread_id)
    replies = [m["body"] for m in found if m["sender_id"] == agent["id"]]
    starts = slow_log.read_text().count("start")
    # the killed turn never posted: the message was redelivered to a new workload, whose turn answered once
    assert replies == ["Finished the slow step."], (replies, orchestrated.logs[-3000:])
    assert starts == 2, slow_log.read_text()


async def test_chat_shows_the_agents_activity_while_it_works(orchestrated: Server, tmp_path: Path) -> None:
    world: ProxyWorld = make_proxy_world(orchestrated, ["runtime/slow-tool"])
    agent = make_agent(world, "runtime/slow-tool")
    mcp = orchestrated.api.post("/api/v1/mcps", headers=owner(world), json={
        "agent_id": agent["id"], "name": "slow", "command": "python3 -m tests.agent_runtime.mcp_servers slow"})
    assert mcp.status_code == 201, mcp.text
    chat = spawn_chat(world, f"@{agent['nickname']}", "--org", world.organization_id)
    try:
        chat.expect("> ")
        chat.sendline("please take your time")
        # the workload starts (pending), then the agent works (running: its runtime touches `processing`)
        chat.expect(r"… (pending|running)", timeout=REPLY_TIMEOUT)
        seen = {chat.match.group(1)}
        chat.expect(r"… running|Finished the slow step", timeout=REPLY_TIMEOUT)
        seen.add("running" if "running" in chat.after else "")
        if "Finished" not in chat.after:
            chat.expect("Finished the slow step", timeout=REPLY_TIMEOUT)
        chat.sendeof()
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    assert "running" in seen, seen
