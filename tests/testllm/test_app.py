"""The HTTP app in process: error shapes and codes, event sequences, usage, hot reload, bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from agyn.testllm.app import create_standalone_app
from agyn.testllm.suites import BUNDLED_SUITES_DIR, SuiteStore
from agyn.token_counting.counting import count_items
from tests.testllm.conftest import DEMO_SUITE


@pytest_asyncio.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    store = SuiteStore([BUNDLED_SUITES_DIR, tmp_path], check_interval=0)
    transport = httpx.ASGITransport(app=create_standalone_app(store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test/testllm") as client:
        yield client, tmp_path


@pytest_asyncio.fixture
async def client(watched: tuple[httpx.AsyncClient, Path]) -> httpx.AsyncClient:
    return watched[0]


def openai_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")
    message: str = body["error"]["message"]
    return message


def anthropic_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert body["error"]["code"] == code
    assert body["error"]["type"] == ("not_found_error" if status == 404 else "invalid_request_error")
    message: str = body["error"]["message"]
    return message


def sse(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    assert response.headers["content-type"].startswith("text/event-stream")
    events = []
    for frame in response.text.split("\n\n"):
        if frame:
            kind, data = frame.split("\n")
            assert kind.startswith("event: ") and data.startswith("data: ")
            events.append((kind.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


async def test_new_suite_file_is_served_without_a_restart(watched: tuple[httpx.AsyncClient, Path]) -> None:
    client, directory = watched
    request = {"model": "simple-hello", "input": "hi"}
    openai_error(await client.post("/demo/v1/responses", json=request), 404, "suite_not_found")
    (directory / "demo.yaml").write_text(DEMO_SUITE, encoding="utf-8")
    response = await client.post("/demo/v1/responses", json=request)
    assert response.status_code == 200
    assert response.json()["output"][0]["content"][0]["text"] == "Hi! How are you?"


async def test_a_broken_suite_file_is_named_in_suite_not_found(watched: tuple[httpx.AsyncClient, Path]) -> None:
    client, directory = watched
    (directory / "demo.yaml").write_text(DEMO_SUITE.replace("call_id: fc_1, name", "name"), encoding="utf-8")
    message = openai_error(await client.post("/demo/v1/responses", json={"model": "weather", "input": "x"}), 404,
                           "suite_not_found")
    assert "demo.yaml" in message and "test 'weather', item 2" in message


@pytest.mark.parametrize(("content", "code"), [
    (b"{not json", "invalid_json"),
    (b"[1, 2]", "invalid_request"),
    (b'{"input": "hi"}', "missing_model"),
    (b'{"model": "simple-hello"}', "missing_input"),
    (b'{"model": 7, "input": "hi"}', "invalid_request"),
    (b'{"model": "simple-hello", "input": 7}', "invalid_request"),
    (b'{"model": "simple-hello", "input": [7]}', "invalid_request"),
    (b'{"model": "simple-hello", "input": [{"role": "robot", "content": "hi"}]}', "invalid_request"),
    (b'{"model": "simple-hello", "input": [{"role": "user", "content": {"a": 1}}]}', "invalid_request"),
    (b'{"model": "simple-hello", "input": [{"role": "user", "content": [{"type": "input_text"}]}]}',
     "invalid_request"),
    (b'{"model": "simple-hello", "input": [{"type": "function_call", "call_id": 1}]}', "invalid_request"),
    (b'{"model": "simple-hello", "input": [{"type": "reasoning"}]}', "invalid_request"),
    (b'{"model": "simple-hello", "input": "hi", "stream": "yes"}', "invalid_request"),
    (b"\xff\xfe", "invalid_json"),
])
async def test_bad_openai_requests_are_400_in_openai_shape(client: httpx.AsyncClient, content: bytes,
                                                           code: str) -> None:
    openai_error(await client.post("/agn/v1/responses", content=content), 400, code)


@pytest.mark.parametrize(("body", "code"), [
    ({"max_tokens": 5, "messages": []}, "missing_model"),
    ({"model": "simple-hello", "messages": []}, "invalid_request"),
    ({"model": "simple-hello", "max_tokens": 0, "messages": []}, "invalid_request"),
    ({"model": "simple-hello", "max_tokens": True, "messages": []}, "invalid_request"),
    ({"model": "simple-hello", "max_tokens": 5}, "missing_input"),
    ({"model": "simple-hello", "max_tokens": 5, "messages": {"role": "user"}}, "invalid_request"),
    ({"model": "simple-hello", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}, "invalid_request"),
    ({"model": "simple-hello", "max_tokens": 5, "messages": [{"role": "user", "content": 5}]}, "invalid_request"),
    ({"model": "simple-hello", "max_tokens": 5, "messages": [{"role": "user", "content": [{"text": "x"}]}]},
     "invalid_request"),
    ({"model": "simple-hello", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "tool_result"}]}]}, "invalid_request"),
])
async def test_bad_anthropic_requests_are_400_in_anthropic_shape(client: httpx.AsyncClient, body: dict[str, Any],
                                                                 code: str) -> None:
    anthropic_error(await client.post("/claude/v1/messages", json=body), 400, code)
    anthropic_error(await client.post("/claude/v1/messages", content=b"{oops"), 400, "invalid_json")


async def test_not_found_codes(client: httpx.AsyncClient) -> None:
    message = openai_error(await client.post("/agn/v1/responses", json={"model": "nope", "input": "hi"}), 404,
                           "model_not_found")
    assert "simple-hello" in message  # the tests that exist are listed
    anthropic_error(await client.post("/nope/v1/messages", json={"model": "x", "max_tokens": 1, "messages": []}),
                    404, "suite_not_found")
    anthropic_error(await client.post("/claude/v1/messages", json={"model": "x", "max_tokens": 1, "messages": []}),
                    404, "model_not_found")


async def test_unknown_routes_answer_in_an_error_shape(client: httpx.AsyncClient) -> None:
    openai_error(await client.get("/agn/v1/responses"), 405, "invalid_request")
    openai_error(await client.post("/agn/v1/chat/completions", json={}), 404, "not_found")
    anthropic_error(await client.get("/claude/v1/messages"), 405, "invalid_request")


async def test_index_lists_suites_and_errors(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    names = {suite["name"]: suite for suite in body["suites"]}
    assert {"agn", "codex", "claude"} <= set(names)
    assert "simple-hello" in names["agn"]["tests"] and names["claude"]["protocol"] == "anthropic"
    assert body["errors"] == []


async def test_responses_event_sequence_for_text_and_tool_calls(client: httpx.AsyncClient) -> None:
    text_events = sse(await client.post("/agn/v1/responses", json={"model": "simple-hello", "input": "hi",
                                                                   "stream": True}))
    created = text_events[0][1]["response"]
    assert created["status"] == "in_progress" and created["output"] == [] and created["usage"] is None
    tool_events = sse(await client.post("/agn/v1/responses", json={
        "model": "shell-threads-send", "input": "Send me an intermediate update then reply", "stream": True}))
    assert [kind for kind, _ in tool_events] == [
        "response.created", "response.in_progress", "response.output_item.added",
        "response.function_call_arguments.delta", "response.function_call_arguments.done",
        "response.output_item.done", "response.completed"]
    added, delta, done = tool_events[2][1], tool_events[3][1], tool_events[4][1]
    assert added["item"]["arguments"] == "" and added["item"]["call_id"] == "fc_shell_001"
    assert delta["delta"] == done["arguments"] == ('{"command": "agyn threads send --message \\"Thinking\\" '
                                                   '> /dev/null && echo ok"}')
    assert done["name"] == "shell"
    completed = tool_events[-1][1]["response"]
    assert completed["status"] == "completed" and completed["output"][0]["type"] == "function_call"
    assert [data["sequence_number"] for _, data in tool_events] == list(range(len(tool_events)))


async def test_usage_is_the_token_count_of_input_and_output(client: httpx.AsyncClient) -> None:
    items = [{"role": "user", "content": "Tell me about the history of computing in detail, please"}]
    body = (await client.post("/agn/v1/responses", json={"model": "summarize-agent-turn1", "input": items})).json()
    usage = body["usage"]
    assert usage["input_tokens"] == count_items(items, "summarize-agent-turn1").total
    assert usage["output_tokens"] == sum(c.tokens for c in count_items(body["output"], "x").items) > 100
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


async def test_anthropic_event_sequence_for_tool_use(client: httpx.AsyncClient) -> None:
    events = sse(await client.post("/claude/v1/messages", json={
        "model": "mcp-tools-test", "max_tokens": 100, "stream": True, "system": [{"type": "text", "text": "sys"}],
        "messages": [{"role": "user", "content": "Create an entity"}]}))
    assert [kind for kind, _ in events] == ["message_start", "content_block_start", "content_block_delta",
                                            "content_block_stop", "message_delta", "message_stop"]
    start = events[1][1]["content_block"]
    assert start == {"type": "tool_use", "id": "tool_mem_001", "name": "mcp__memory__create_entities", "input": {}}
    delta = events[2][1]["delta"]
    assert delta["type"] == "input_json_delta"
    assert json.loads(delta["partial_json"]) == {"entities": [{"name": "test_project", "entityType": "project",
                                                               "observations": ["A test project"]}]}
    assert events[4][1]["delta"]["stop_reason"] == "tool_use"
    assert events[4][1]["usage"]["output_tokens"] > 0


async def test_authorization_headers_are_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post("/agn/v1/responses", json={"model": "simple-hello", "input": "hi"},
                                 headers={"Authorization": "Bearer whatever", "x-api-key": "nope"})
    assert response.status_code == 200


@pytest.mark.parametrize("body", [
    None, 0, "text", [], {"model": None, "input": None}, {"model": "simple-hello", "input": [None, {}, []]},
    {"model": "simple-hello", "input": [{"type": "function_call_output", "call_id": "x", "output": [1]}]},
    {"model": "simple-hello", "input": [{"role": "user", "content": [None]}]},
    {"model": "simple-hello", "input": [{"type": {"nested": True}}]},
])
async def test_odd_bodies_never_crash_either_endpoint(client: httpx.AsyncClient, body: Any) -> None:
    for path in ("/agn/v1/responses", "/claude/v1/messages", "/agn/v1/messages", "/claude/v1/responses"):
        response = await client.post(path, json=body)
        assert 400 <= response.status_code < 500, (path, body, response.text)
