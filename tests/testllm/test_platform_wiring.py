"""`agyn serve` serves the test LLM at /testllm and token counts behind authentication."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Api, assert_problem


async def test_the_platform_serves_the_bundled_suite(api: Api) -> None:
    answer = await api.client.post("/testllm/agn/v1/responses", json={
        "model": "simple-hello", "input": [{"type": "message", "role": "user", "content": "hi there"}]})
    assert answer.status_code == 200, answer.text
    [output] = answer.json()["output"]
    assert output["content"][0]["text"] == "Hi! How are you?"


async def test_suites_dropped_into_the_data_dir_are_served_without_a_restart(api: Api) -> None:
    suites = Path(api.settings.data_dir) / "testllm"
    suites.mkdir(parents=True, exist_ok=True)
    (suites / "mine.yaml").write_text(
        "name: mine\nprotocol: openai\ntests:\n  ping:\n"
        "    - {type: message, role: user, any_content: true}\n"
        "    - {type: message, role: assistant, content: pong}\n")
    answer = await api.client.post("/testllm/mine/v1/responses", json={"model": "ping", "input": "anything"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"][0]["content"][0]["text"] == "pong"


async def test_token_counts_need_a_caller(api: Api) -> None:
    body = {"model": "gpt-4o", "input": [{"type": "message", "role": "user", "content": "hello world"}]}
    assert_problem(await api.client.post("/api/v1/token-counts", json=body), 401, "unauthenticated")
    counted = await api.client.post("/api/v1/token-counts", json=body, headers=api.admin)
    assert counted.status_code == 200, counted.text
    assert counted.json()["items"][0]["tokens"] > 2  # "hello world" is 2, plus the message's own tokens
