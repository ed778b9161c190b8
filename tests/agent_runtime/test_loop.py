"""The native loop against the test LLM's bundled `agn` suite (and ./suites/runtime.yaml), called directly
over HTTP with the official openai SDK, with real MCP servers over Streamable HTTP and stdio."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from agyn.agent_runtime.history import Entry, HistoryStore
from agyn.agent_runtime.loop import UNAVAILABLE, AgentConfig, AgentLoop, Summarization
from agyn.agent_runtime.tools import McpServer, ToolBox, ToolConfigurationError
from tests.agent_runtime.conftest import REPO, HttpMcp, mcp_env, stdio_command, stop
from tests.cli.test_cli import free_port


@asynccontextmanager
async def agent_loop(base_url: str, state_dir: Path, servers: list[McpServer] | None = None, *,
                     env: dict[str, str] | None = None, max_retries: int = 2) -> AsyncIterator[AgentLoop]:
    async with ToolBox(servers or [], env=env or mcp_env(), cwd=state_dir) as tools:
        yield AgentLoop.connect(base_url, "any-key", tools, state_dir, max_retries=max_retries)


async def test_simple_hello_sends_no_system_item_when_no_prompt_is_set(testllm_url: str, tmp_path: Path) -> None:
    async with agent_loop(f"{testllm_url}/agn/v1", tmp_path) as loop:
        result = await loop.run_turn("c1", ["hi"], AgentConfig(model="simple-hello"))
    assert result.text == "Hi! How are you?" and result.error is None


async def test_a_conversation_far_from_its_budget_is_not_counted(testllm_url: str, tmp_path: Path) -> None:
    """The tokenizer's first load is a cold start's cost: a short conversation's turn does without it."""
    async with agent_loop(f"{testllm_url}/agn/v1", tmp_path) as loop:
        await loop.run_turn("c1", ["hi"], AgentConfig(model="simple-hello"))
    stored = HistoryStore(tmp_path).load("c1")
    assert [(e.kind, e.tokens) for e in stored.entries] == [("user", 0), ("assistant", 0)]
    assert stored.most_tokens() >= stored.count() > 0


@pytest.mark.parametrize("entry", [
    Entry("user", text="hi"), Entry("assistant", text="naïve café ☕ 東京 🙂" * 50), Entry("user", text="x" * 5000),
    Entry("user", text=" ".join(str(n) for n in range(2000))), Entry("assistant", text="\n\n\n" * 300),
    Entry("tool_call", call_id="c", name="get_weather", arguments='{"location": "Paris"}'),
    Entry("tool_output", call_id="c", output='{"exit_code": 0, "stdout": "", "stderr": ""}'),
    Entry("summary", text="short"),
])
def test_the_uncounted_bound_is_never_below_the_count(entry: Entry) -> None:
    bound = entry.most_tokens()
    assert bound >= entry.counted().tokens and entry.most_tokens() == entry.tokens


async def test_a_saved_turn_asked_again_answers_from_the_history(testllm_url: str, tmp_path: Path) -> None:
    """A runtime killed after saving a turn but before its reply was posted: its successor gets the same
    messages, and answers them without asking the model again or writing them twice."""
    async with agent_loop(f"{testllm_url}/agn/v1", tmp_path) as loop:
        first = await loop.run_turn("c1", ["hi"], AgentConfig(model="simple-hello"), turn_key="m1")
        again = await loop.run_turn("c1", ["hi"], AgentConfig(model="simple-hello"), turn_key="m1")
        # another batch is a turn of its own: the script, seeing "hi" twice in its input, refuses it
        other = await loop.run_turn("c1", ["hi"], AgentConfig(model="simple-hello"), turn_key="m2")
    assert first.text == again.text == "Hi! How are you?" and other.text is None
    assert [e.kind for e in HistoryStore(tmp_path).load("c1").entries] == ["user", "assistant"]


async def test_system_prompt_is_the_first_input_item(testllm_url: str, tmp_path: Path) -> None:
    async with agent_loop(f"{testllm_url}/agn/v1", tmp_path) as loop:
        result = await loop.run_turn("c1", ["hi"], AgentConfig(model="system-prompt",
                                                                system_prompt="You are personal assistant"))
        assert result.text == "Hello! I am here to help!"
        # the script refuses a request without the system item
        missing = await loop.run_turn("c2", ["hi"], AgentConfig(model="system-prompt"))
    assert missing.text is None and missing.error


async def test_simple_state_continues_after_a_restart(testllm_url: str, tmp_path: Path) -> None:
    base = f"{testllm_url}/agn/v1"
    async with agent_loop(base, tmp_path) as loop:
        first = await loop.run_turn("thread-1", ["hi"], AgentConfig(model="simple-state"))
    assert first.text == "Hi! How are you?"
    async with agent_loop(base, tmp_path) as restarted:  # a new process would read the same state dir
        second = await restarted.run_turn("thread-1", ["fine, thanks"], AgentConfig(model="simple-state"))
    assert second.text == "How can I help you?"
    kinds = [entry.kind for entry in HistoryStore(tmp_path).load("thread-1").entries]
    assert kinds == ["user", "assistant", "user", "assistant"]


async def test_get_weather_through_an_http_mcp_server(testllm_url: str, tmp_path: Path,
                                                      weather_mcp: HttpMcp) -> None:
    async with agent_loop(f"{testllm_url}/agn/v1", tmp_path, [weather_mcp.server]) as loop:
        assert [spec["name"] for spec in loop.tools.specs] == ["shell", "get_weather"]
        result = await loop.run_turn("c", ["what is the weather in Paris?"], AgentConfig(model="simple-tool-call"))
    assert result.text == "The weather in Paris is currently 18°C and partly cloudy."
    assert result.tool_calls == 1
    entries = HistoryStore(tmp_path).load("c").entries
    assert [e.kind for e in entries] == ["user", "tool_call", "tool_output", "assistant"]
    assert json.loads(str(entries[2].output)) == {"temperature": "18°C", "condition": "partly cloudy"}


async def test_mcp_tools_from_an_http_and_a_stdio_server(testllm_url: str, tmp_path: Path, memory_mcp: HttpMcp,
                                                         fs_root: Path) -> None:
    servers = [memory_mcp.server, McpServer("filesystem", "stdio", command=stdio_command("filesystem"))]
    env = mcp_env(MCP_FS_ROOT=str(fs_root))
    async with agent_loop(f"{testllm_url}/agn/v1", tmp_path, servers, env=env) as loop:
        names = {spec["name"] for spec in loop.tools.specs}
        assert {"create_entities", "list_directory", "shell"} <= names
        result = await loop.run_turn("c", [
            "Create an entity called test_project of type project with observation 'A test project', "
            "then list files in /test-data"], AgentConfig(model="mcp-tools-test"))
    assert result.text == ("I've created the entity 'test_project' (type: project) with the observation "
                           "'A test project'. The /test-data directory contains one file: hello.txt.")
    assert result.tool_calls == 2


async def test_a_failing_tool_is_the_tool_output_the_model_reads(testllm_url: str, tmp_path: Path) -> None:
    servers = [McpServer("faulty", "stdio", command=stdio_command("faulty"))]
    async with agent_loop(f"{testllm_url}/runtime/v1", tmp_path, servers) as loop:
        result = await loop.run_turn("c", ["break it"], AgentConfig(model="tool-failure"))
    assert result.text == "The tool failed, sorry."
    entries = HistoryStore(tmp_path).load("c").entries
    assert entries[2].kind == "tool_output" and entries[2].output == "Error executing tool explode"


async def test_shell_output_is_exit_code_stdout_stderr(tmp_path: Path) -> None:
    async with ToolBox([], env=mcp_env(), cwd=tmp_path) as tools:
        output, failed = await tools.call("shell", json.dumps({"command": "echo out; echo err >&2; exit 3"}))
        assert json.loads(str(output)) == {"exit_code": 3, "stdout": "out\n", "stderr": "err\n"} and failed
        output, failed = await tools.call("shell", json.dumps({"command": "sleep 5", "timeout": 0.2}))
        assert json.loads(str(output))["exit_code"] == 124 and failed
        output, failed = await tools.call("nope", "{}")
        assert failed and "no tool named" in str(output)


async def test_an_unreachable_llm_is_a_short_error_and_no_history(tmp_path: Path) -> None:
    async with agent_loop(f"http://127.0.0.1:{free_port()}/v1", tmp_path, max_retries=1) as loop:
        result = await loop.run_turn("c", ["hi"], AgentConfig(model="simple-hello"))
    assert result.text is None
    assert result.error == UNAVAILABLE
    assert HistoryStore(tmp_path).load("c").entries == []


def budget_between(low: int, high: int) -> int:
    assert low < high, (low, high)
    return (low + high) // 2


async def test_summarization_replaces_older_messages_with_one_summary(testllm_url: str, tmp_path: Path) -> None:
    base = f"{testllm_url}/agn/v1"
    question = "Tell me about the history of computing in detail"
    async with agent_loop(base, tmp_path) as loop:
        first = await loop.run_turn("c", [question], AgentConfig(model="summarize-agent-turn1"))
        assert first.text and first.text.startswith("The history of computing began")
        stored = HistoryStore(tmp_path).load("c").count()
        follow_up = Entry("user", text="What came next?").counted()
        # over budget once the follow-up is in; keep only the follow-up itself
        budget = Summarization(max_tokens=budget_between(follow_up.tokens, stored + follow_up.tokens),
                               keep_tokens=follow_up.tokens, model="summarize-history")
        second = await loop.run_turn("c", ["What came next?"], AgentConfig(model="summarize-agent-turn2",
                                                                           summarization=budget))
    assert second.text == "After integrated circuits came microprocessors and personal computers."
    entries = HistoryStore(tmp_path).load("c").entries
    assert [e.kind for e in entries] == ["summary", "user", "assistant"]
    assert entries[0].text.startswith("User asked about computing history.")


async def test_summarization_keeps_a_tool_call_with_its_output(testllm_url: str, tmp_path: Path,
                                                              weather_mcp: HttpMcp) -> None:
    base = f"{testllm_url}/agn/v1"
    async with agent_loop(base, tmp_path, [weather_mcp.server]) as loop:
        first = await loop.run_turn("c", ["What is the weather in Paris right now please?"],
                                    AgentConfig(model="summarize-tool-pair-turn1"))
        assert first.text == "The weather in Paris is currently 18°C and partly cloudy."
        user, call, output, answer = [entry.counted() for entry in HistoryStore(tmp_path).load("c").entries]
        thanks = Entry("user", text="thanks").counted()
        # keeping more than "thanks" and the answer reaches into the tool output, which keeps its call
        keep = thanks.tokens + answer.tokens + 1
        total = user.tokens + call.tokens + output.tokens + answer.tokens + thanks.tokens
        budget = Summarization(max_tokens=total - 1, keep_tokens=keep, model="summarize-tool-pair-history")
        second = await loop.run_turn("c", ["thanks"], AgentConfig(model="summarize-tool-pair-turn2",
                                                                  summarization=budget))
    assert second.text == "You're welcome!"
    kinds = [e.kind for e in HistoryStore(tmp_path).load("c").entries]
    assert kinds == ["summary", "tool_call", "tool_output", "assistant", "user", "assistant"]


async def test_an_mcp_server_still_starting_is_waited_for(tmp_path: Path) -> None:
    port = free_port()
    server = McpServer("weather", "streamable_http", url=f"http://127.0.0.1:{port}/mcp")
    with pytest.raises(ToolConfigurationError, match="did not start within"):
        async with ToolBox([server], env=mcp_env(), startup_timeout=0.2):
            pass

    async def enter() -> list[str]:
        async with ToolBox([server], env=mcp_env()) as tools:
            return [spec["name"] for spec in tools.specs]

    entering = asyncio.create_task(enter())
    await asyncio.sleep(0.5)  # the runner starts the server after the runtime, as it may
    process = subprocess.Popen([sys.executable, "-m", "tests.agent_runtime.mcp_servers", "weather"], cwd=REPO,
                               env=mcp_env(MCP_PORT=str(port)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert await asyncio.wait_for(entering, 60) == ["shell", "get_weather"]
    finally:
        stop(process)
