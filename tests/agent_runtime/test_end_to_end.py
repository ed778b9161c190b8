"""The whole path with the platform's own orchestrator and local runner: a person writes to an agent with an
MCP tool, a workload starts running `agyn agent-runtime` (the default runtime command) and the reply comes
back through the LLM proxy and the platform's test LLM."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.agent_runtime.conftest import ProxyWorld, Server, make_proxy_world, platform_process
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
