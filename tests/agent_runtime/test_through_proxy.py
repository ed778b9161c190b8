"""The native loop through the platform's LLM proxy: a user's token, models declared through the API
(their provider is the platform's own test LLM), the request's `model` a model id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agyn.agent_runtime.history import Entry, HistoryStore
from agyn.agent_runtime.loop import AgentConfig, AgentLoop, Summarization
from agyn.agent_runtime.tools import McpServer, ToolBox
from tests.agent_runtime.conftest import AGYN_BIN, HttpMcp, ProxyWorld, Server, make_proxy_world, mcp_env, stdio_command

TESTS = ["simple-hello", "simple-state", "system-prompt", "simple-tool-call", "mcp-tools-test", "shell-threads-send",
         "summarize-agent-turn1", "summarize-agent-turn2", "summarize-history"]


@pytest.fixture(scope="module")
def world(server: Server) -> ProxyWorld:
    return make_proxy_world(server, TESTS)


def loop_for(world: ProxyWorld, tools: ToolBox, state_dir: Path) -> AgentLoop:
    return AgentLoop.connect(world.base_url, world.token, tools, state_dir, max_retries=0)


async def test_hello_state_and_system_prompt(world: ProxyWorld, tmp_path: Path) -> None:
    async with ToolBox([], env=mcp_env()) as tools:
        loop = loop_for(world, tools, tmp_path)
        hello = await loop.run_turn("a", ["hi"], AgentConfig(model=world.models["simple-hello"]))
        assert hello.text == "Hi! How are you?", hello.error
        prompt = await loop.run_turn("b", ["hi"], AgentConfig(model=world.models["system-prompt"],
                                                               system_prompt="You are personal assistant"))
        assert prompt.text == "Hello! I am here to help!", prompt.error
        state = AgentConfig(model=world.models["simple-state"])
        assert (await loop.run_turn("c", ["hi"], state)).text == "Hi! How are you?"
        assert (await loop.run_turn("c", ["fine"], state)).text == "How can I help you?"


async def test_tools_from_http_and_stdio_mcp_servers(world: ProxyWorld, tmp_path: Path, weather_mcp: HttpMcp,
                                                     memory_mcp: HttpMcp, fs_root: Path) -> None:
    servers = [weather_mcp.server, memory_mcp.server,
               McpServer("filesystem", "stdio", command=stdio_command("filesystem"))]
    async with ToolBox(servers, env=mcp_env(MCP_FS_ROOT=str(fs_root))) as tools:
        loop = loop_for(world, tools, tmp_path)
        weather = await loop.run_turn("w", ["what is the weather in Paris?"],
                                      AgentConfig(model=world.models["simple-tool-call"]))
        assert weather.text == "The weather in Paris is currently 18°C and partly cloudy.", weather.error
        both = await loop.run_turn("m", ["Create an entity called test_project of type project with observation "
                                         "'A test project', then list files in /test-data"],
                                   AgentConfig(model=world.models["mcp-tools-test"]))
        assert both.text and both.text.endswith("The /test-data directory contains one file: hello.txt."), both.error
        assert both.tool_calls == 2


async def test_shell_threads_send_posts_an_intermediate_message(world: ProxyWorld, tmp_path: Path) -> None:
    api = world.server.api
    owned = {"Authorization": f"Bearer {world.token}"}
    thread = api.post("/api/v1/threads", headers=owned, json={"organization_id": world.organization_id})
    assert thread.status_code == 201, thread.text
    thread_id = thread.json()["id"]
    # the workload's environment: the platform, a credential and the thread (a user's token until workloads
    # carry their own)
    env = mcp_env(AGYN_PLATFORM_URL=world.server.url, AGYN_WORKLOAD_TOKEN=world.token, AGYN_THREAD_ID=thread_id)
    env["PATH"] = f"{AGYN_BIN}:{env['PATH']}"
    async with ToolBox([], env=env, cwd=tmp_path) as tools:
        loop = loop_for(world, tools, tmp_path)
        result = await loop.run_turn(thread_id, ["Send me an intermediate update then reply"],
                                     AgentConfig(model=world.models["shell-threads-send"]))
    assert result.text == "Done thinking. Here is my reply.", result.error
    output = HistoryStore(tmp_path).load(thread_id).entries[2].output
    assert json.loads(str(output)) == {"exit_code": 0, "stdout": "ok\n", "stderr": ""}
    messages = api.get(f"/api/v1/threads/{thread_id}/messages", headers=owned).json()["items"]
    assert [m["body"] for m in messages] == ["Thinking"]


async def test_summarization_through_the_proxy(world: ProxyWorld, tmp_path: Path) -> None:
    async with ToolBox([], env=mcp_env()) as tools:
        loop = loop_for(world, tools, tmp_path)
        first = await loop.run_turn("s", ["Tell me about the history of computing in detail"],
                                    AgentConfig(model=world.models["summarize-agent-turn1"]))
        assert first.text, first.error
        follow_up = Entry("user", text="What came next?").counted()
        budget = Summarization(max_tokens=HistoryStore(tmp_path).load("s").count(), keep_tokens=follow_up.tokens,
                               model=world.models["summarize-history"])
        second = await loop.run_turn("s", ["What came next?"], AgentConfig(
            model=world.models["summarize-agent-turn2"], summarization=budget))
    assert second.text == "After integrated circuits came microprocessors and personal computers.", second.error
    assert [e.kind for e in HistoryStore(tmp_path).load("s").entries] == ["summary", "user", "assistant"]
