"""The demo conversation end to end: a person asks an agent with an MCP tool, the platform's orchestrator
starts a workload running `agyn agent-runtime`, which exports its spans to the platform by default; the
conversation's run timeline then shows the message, both LLM calls with their input and usage, and the
tool call with its input and output, in order (and `agyn runs` prints it)."""

from __future__ import annotations

import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.agent_runtime.conftest import ProxyWorld, Server, make_proxy_world, platform_process
from tests.agent_runtime.test_daemon import make_agent, messages, owner, send, thread_with
from tests.cli.test_cli import AGYN, cli_env

WAIT = 90.0


@pytest.fixture(scope="module")
async def orchestrated(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    async with platform_process("sqlite", tmp_path_factory.mktemp("platform"),
                                AGYN_ORCHESTRATOR__TICK_SECONDS="0.5") as found:
        yield found


def runs_of(world: ProxyWorld, thread_id: str) -> list[dict[str, Any]]:
    response = world.server.api.get(f"/api/v1/conversations/{thread_id}/runs", headers=owner(world))
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_the_run_timeline_of_the_demo_conversation(orchestrated: Server) -> None:
    world = make_proxy_world(orchestrated, ["runtime/quick-mcp"])
    agent = make_agent(world, "runtime/quick-mcp")
    mcp = orchestrated.api.post("/api/v1/mcps", headers=owner(world), json={
        "agent_id": agent["id"], "name": "weather", "command": "python3 -m tests.agent_runtime.mcp_servers weather"})
    assert mcp.status_code == 201, mcp.text
    thread_id = thread_with(world, agent)
    asked = send(world, thread_id, "what is the weather in Paris?")
    deadline = time.monotonic() + WAIT
    runs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:  # the reply, then the run's spans (flushed once the turn is done)
        if len(messages(world, thread_id)) >= 2 and (runs := runs_of(world, thread_id)) and \
                runs[0]["status"] != "in_progress" and len(runs[0]["events"]) >= 4:
            break
        time.sleep(0.2)
    assert runs, orchestrated.logs[-3000:]
    [run] = runs
    assert run["status"] == "ok" and run["message_ids"] == [asked["id"]] and run["agent_id"] == agent["id"]
    assert run["response"] == "18°C and partly cloudy in Paris."
    assert [e["type"] for e in run["events"]] == ["message", "llm_call", "tool_execution", "llm_call"]
    message, first, tool, second = run["events"]
    assert (message["message_id"], message["text"]) == (asked["id"], "what is the weather in Paris?")
    model_id = world.models["runtime/quick-mcp"]  # the agent's model, as the agent names it
    assert first["model"] == model_id and first["usage"]["input_tokens"] > 0 and first["usage"]["output_tokens"] > 0
    assert [i["role"] for i in first["input"]] == ["user"] and "weather in Paris" in first["input"][0]["text"]
    assert first["tool_calls"] == [{"name": "get_weather", "arguments": '{"location": "Paris"}'}]
    assert (tool["tool"], tool["input"], tool["status"]) == ("get_weather", '{"location": "Paris"}', "unset")
    assert "18°C" in tool["output"]
    assert second["output"] == "18°C and partly cloudy in Paris." and second["usage"]["input_tokens"] > 0
    assert [i["role"] for i in second["input"]] == ["user", "function_call", "function_call_output"]
    assert all(i["is_new"] for i in second["input"])  # all of it came in this run
    assert all(e["duration_ms"] is not None for e in run["events"][1:])

    # the spans carry the GenAI conventions and the identities the server stamped
    spans = orchestrated.api.get("/api/v1/spans", headers=owner(world), params={
        "organization_id": world.organization_id, "thread_id": thread_id, "name": "execute_tool get_weather"})
    [span] = spans.json()["items"]
    assert span["attributes"]["gen_ai.operation.name"] == "execute_tool"
    assert (span["agent_id"], span["thread_id"]) == (agent["id"], thread_id) and span["workload_id"]

    printed = subprocess.run([str(AGYN), "runs", thread_id, "--api-url", orchestrated.url, "--token", world.token],
                             env=cli_env(), capture_output=True, text=True, timeout=60, check=False)
    assert printed.returncode == 0, printed.stderr
    for expected in ("what is the weather in Paris?", f"LLM {model_id}", "tool get_weather", "18°C"):
        assert expected in printed.stdout, printed.stdout
