"""The official SDKs against a real `agyn serve`: the LLM proxy forwards to the platform's own test LLM
(and to a stub provider for what the test LLM cannot show), errors arrive as each SDK's usual
exceptions, and every call is metered."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.cli.test_cli import agyn
from tests.llm_proxy.conftest import READ_TIMEOUT, Server, World, make_world
from tests.llm_proxy.stub_upstream import fingerprint

# --- OpenAI Responses ----------------------------------------------------------------------------


def test_openai_create_by_name_and_by_id(world: World) -> None:
    client = world.openai()
    by_name = client.responses.create(model="hello", input="hi")
    assert by_name.output_text == "Hi! How are you?"
    assert by_name.model == "simple-hello"  # the provider saw the remote name
    by_id = client.responses.create(model=world.models["hello"], input="hi")
    assert by_id.output_text == "Hi! How are you?"
    assert by_id.usage is not None and by_id.usage.input_tokens > 0


def test_openai_stream(world: World) -> None:
    events = list(world.openai().responses.create(model="hello", input="hi", stream=True))
    assert [event.type for event in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed"]
    completed = events[-1]
    assert completed.type == "response.completed" and completed.response.output_text == "Hi! How are you?"


@pytest.mark.parametrize("stream", [False, True])
def test_openai_tool_call_round_trip(world: World, stream: bool) -> None:
    client = world.openai()
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    history: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first: Any
    if stream:
        with client.responses.stream(model="tools", input=history, tools=tools) as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(model="tools", input=history, tools=tools)
    call = first.output[0]
    assert (call.type, call.call_id, call.name) == ("function_call", "fc_001", "get_weather")
    assert json.loads(call.arguments) == {"location": "Paris"}
    history += [call.model_dump(exclude_none=True), {
        "type": "function_call_output", "call_id": call.call_id,
        "output": '{"temperature": "18°C", "condition": "partly cloudy"}'}]
    second = client.responses.create(model="tools", input=history, tools=tools)
    assert second.output_text == "The weather in Paris is currently 18°C and partly cloudy."


def test_provider_errors_pass_through(world: World) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        world.openai().responses.create(model="hello", input="good morning")  # not in the script
    assert error.value.code == "input_mismatch"


# --- Anthropic Messages --------------------------------------------------------------------------


def test_anthropic_create(world: World) -> None:
    message = world.anthropic().messages.create(model="claude-hello", max_tokens=100, system="Be brief.",
                                                messages=[{"role": "user", "content": "hi there"}])
    assert message.content[0].type == "text" and message.content[0].text == "Hi! How are you?"
    assert message.model == "simple-hello"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_anthropic_stream(world: World) -> None:
    with world.anthropic().messages.stream(model="claude-hello", max_tokens=100, system="Be brief.",
                                           messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hi! How are you?"
    assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0


def test_anthropic_with_a_bearer_token(world: World) -> None:
    client = anthropic.Anthropic(base_url=world.server.url, auth_token=world.member.token, max_retries=0)
    message = client.messages.create(model=world.models["claude-hello"], max_tokens=10, system="x",
                                     messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].type == "text"


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_use_round_trip(world: World, stream: bool) -> None:
    client = world.anthropic()
    tools: Any = [{"name": "mcp__memory__create_entities", "input_schema": {"type": "object", "properties": {}}},
                  {"name": "mcp__filesystem__list_directory", "input_schema": {"type": "object", "properties": {}}}]
    messages: list[Any] = [{"role": "user", "content": "Create the entity, then list /test-data"}]
    results = ['{"entities": []}', "[FILE] hello.txt"]
    for step in range(2):
        answer: Any
        if stream:
            with client.messages.stream(model="claude-tools", max_tokens=200, system="You are Claude Code.",
                                        messages=messages, tools=tools) as events:
                answer = events.get_final_message()
        else:
            answer = client.messages.create(model="claude-tools", max_tokens=200, system="You are Claude Code.",
                                            messages=messages, tools=tools)
        assert answer.stop_reason == "tool_use"
        tool_use = answer.content[0]
        assert tool_use.type == "tool_use"
        messages += [{"role": "assistant", "content": answer.content},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id,
                                                   "content": results[step]}]}]
    final = client.messages.create(model="claude-tools", max_tokens=200, system="You are Claude Code.",
                                   messages=messages, tools=tools)
    assert final.content[0].type == "text" and "hello.txt" in final.content[0].text


# --- who may call, and which model ---------------------------------------------------------------


def test_an_outsider_is_refused(world: World) -> None:
    with pytest.raises(openai.PermissionDeniedError) as error:
        world.openai(world.outsider).responses.create(model=world.models["hello"], input="hi")
    assert error.value.code == "permission_denied"
    with pytest.raises(openai.PermissionDeniedError):
        world.openai(world.outsider).responses.create(model="hello", input="hi")
    with pytest.raises(anthropic.PermissionDeniedError) as other:
        world.anthropic(world.outsider).messages.create(model="claude-hello", max_tokens=5,
                                                        messages=[{"role": "user", "content": "hi"}])
    assert isinstance(other.value.body, dict) and other.value.body["error"]["type"] == "permission_error"


def test_the_protocol_must_match_the_provider(world: World) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        world.openai().responses.create(model="claude-hello", input="hi")
    assert error.value.code == "protocol_mismatch" and "/v1/messages" in error.value.message
    with pytest.raises(anthropic.BadRequestError) as other:
        world.anthropic().messages.create(model="hello", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    assert isinstance(other.value.body, dict) and other.value.body["error"]["code"] == "protocol_mismatch"


def test_unknown_models_and_bad_credentials(world: World) -> None:
    with pytest.raises(openai.NotFoundError) as error:
        world.openai().responses.create(model="no-such-model", input="hi")
    assert error.value.code == "model_not_found"
    with pytest.raises(anthropic.NotFoundError):
        world.anthropic().messages.create(model="no-such-model", max_tokens=5,
                                          messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{world.server.url}/v1", api_key="agyn_" + "x" * 44, max_retries=0) \
            .responses.create(model="hello", input="hi")
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=world.server.url, api_key="nope", max_retries=0).messages.create(
            model="claude-hello", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
    missing = httpx.post(f"{world.server.url}/v1/responses", json={"model": "hello", "input": "hi"})
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthenticated"


def test_a_name_in_two_organizations_needs_the_id_or_the_organization(server: Server, stub_url: str) -> None:
    world, other = make_world(server, stub_url), make_world(server, stub_url)
    joined = server.api.post("/api/v1/memberships", json={
        "organization_id": other.organization_id, "identity_id": world.member.id, "role": "member"})
    assert joined.status_code == 201, joined.text
    with pytest.raises(openai.BadRequestError) as error:
        world.openai().responses.create(model="hello", input="hi")
    assert error.value.code == "ambiguous_model" and "x-agyn-organization-id" in error.value.message
    chosen = world.openai(default_headers={"x-agyn-organization-id": other.organization_id})
    assert chosen.responses.create(model="hello", input="hi").output_text == "Hi! How are you?"
    assert world.openai().responses.create(model=other.models["hello"], input="hi").output_text


def test_models_lists_what_the_caller_may_use(world: World) -> None:
    listed = {model.id: model for model in world.openai().models.list()}
    assert set(world.models.values()) <= set(listed)
    hello: Any = listed[world.models["hello"]]
    assert hello.display_name == "hello" and hello.protocol == "responses"
    assert not [m for m in world.openai(world.outsider).models.list() if m.id in world.models.values()]
    assert world.models["claude-hello"] in {model.id for model in world.anthropic().models.list()}


# --- the provider's side -------------------------------------------------------------------------


def _seen(text: str) -> dict[str, Any]:
    seen: dict[str, Any] = json.loads(text)
    return seen


def test_headers_forwarded_and_credentials_injected(world: World) -> None:
    client = world.openai(default_headers={"x-custom-thing": "kept", "x-agyn-thread-id": "thread-1",
                                           "x-secret-header": "from-the-caller"})
    seen = _seen(client.responses.create(model="echo", input="hi").output_text)
    headers = seen["headers"]
    assert seen["model"] == "echo-remote" and seen["path"] == "/echo/v1/responses"
    assert headers["x-custom-thing"] == "kept"
    fingerprints = {fingerprint(secret) for secret in world.secrets}
    assert headers["x-secret-header"] in fingerprints  # the provider's custom header wins over the caller's
    assert "authorization" not in headers and "x-api-key" not in headers
    assert not [name for name in headers if name.startswith("x-agyn-")]
    assert world.member.token not in json.dumps(headers)

    message = world.anthropic().messages.create(model="echo-anthropic", max_tokens=5,
                                                messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].type == "text"
    seen = _seen(message.content[0].text)
    assert seen["model"] == "echo-anthropic-remote" and seen["path"] == "/echo/v1/messages"
    assert seen["headers"]["x-api-key"] in fingerprints and "authorization" not in seen["headers"]
    assert seen["headers"]["anthropic-version"]  # the SDK's own headers go through


def test_provider_down_is_502(world: World) -> None:
    with pytest.raises(openai.InternalServerError) as error:
        world.openai().responses.create(model="down", input="hi")
    assert error.value.status_code == 502 and error.value.code == "upstream_unreachable"
    with pytest.raises(openai.InternalServerError) as streamed:
        world.openai().responses.create(model="down", input="hi", stream=True)
    assert streamed.value.status_code == 502


def test_provider_timeout_is_504(world: World) -> None:
    started = time.monotonic()
    with pytest.raises(openai.APIStatusError) as error:
        world.openai().responses.create(model="slow", input="hi")
    assert error.value.status_code == 504 and error.value.code == "upstream_timeout"
    assert time.monotonic() - started < READ_TIMEOUT + 2


def test_a_stream_that_stalls_ends_with_an_error_event(world: World) -> None:
    with httpx.stream("POST", f"{world.server.url}/v1/responses", headers={"x-api-key": world.member.token},
                      json={"model": "stall", "input": "hi", "stream": True}, timeout=10) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    assert text.startswith("event: response.created")
    assert text.rstrip().endswith('"code": "upstream_timeout", "message": "the provider of model \'stall\' did '
                                  'not answer in time", "param": null}')


def test_provider_status_passes_through(world: World) -> None:
    with pytest.raises(anthropic.InternalServerError) as error:
        world.anthropic().messages.create(model="overloaded", max_tokens=5,
                                          messages=[{"role": "user", "content": "hi"}])
    assert error.value.status_code == 529
    assert isinstance(error.value.body, dict) and error.value.body["error"]["type"] == "overloaded_error"


def test_provider_credentials_never_reach_the_caller(world: World) -> None:
    answer = httpx.post(f"{world.server.url}/v1/responses", headers={"Authorization": f"Bearer {world.member.token}"},
                        json={"model": "leak", "input": "hi"})
    assert answer.status_code == 401
    assert "[redacted]" in answer.text
    assert not [secret for secret in world.secrets if secret in answer.text]


# --- metering ------------------------------------------------------------------------------------


def _sums(report: dict[str, Any]) -> dict[tuple[str, str | None], float]:
    return {(bucket["unit"], bucket["group"]): bucket["value"] for bucket in report["buckets"]}


def test_usage_shows_tokens_and_requests_per_model(server: Server, stub_url: str) -> None:
    world = make_world(server, stub_url)
    client = world.openai(default_headers={"x-agyn-thread-id": "thread-42"})
    first = client.responses.create(model="hello", input="hi")
    list(client.responses.create(model="hello", input="hi", stream=True))
    client.responses.create(model="echo", input="hi")
    claude = world.anthropic().messages.create(model="claude-hello", max_tokens=10, system="x",
                                               messages=[{"role": "user", "content": "hi"}])
    with world.anthropic().messages.stream(model="claude-hello", max_tokens=10, system="x",
                                           messages=[{"role": "user", "content": "hi"}]) as stream:
        stream.get_final_message()
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="down", input="hi")

    report = world.wait_for_usage(lambda r: _sums(r).get(("COUNT", "claude-hello")) == 2
                                  and _sums(r).get(("COUNT", "down")) == 1, group_by="model")
    sums = _sums(report)
    assert sums[("COUNT", "hello")] == 2 and sums[("COUNT", "echo")] == 1 and sums[("COUNT", "down")] == 1
    assert sums[("TOKENS", "hello")] > 0 and sums[("TOKENS", "claude-hello")] > 0
    assert sums[("TOKENS", "echo")] == 15  # the stub's usage: 6 uncached + 4 cached input, 5 output
    assert ("TOKENS", "down") not in sums  # a failed call counts as a request, not as tokens

    kinds = _sums(world.usage(group_by="kind", model="echo"))
    assert kinds == {("COUNT", "request"): 1, ("TOKENS", "input"): 6, ("TOKENS", "cached"): 4,
                     ("TOKENS", "output"): 5}
    statuses = _sums(world.usage(group_by="status", unit="COUNT"))
    assert statuses == {("COUNT", "success"): 5, ("COUNT", "failed"): 1}
    threads = _sums(world.usage(group_by="thread_id", unit="COUNT"))
    assert threads == {("COUNT", "thread-42"): 4, ("COUNT", None): 2}
    # a streamed call is metered from its final events exactly as the same call answered at once
    assert first.usage is not None
    for kind, openai_tokens, anthropic_tokens in (
            ("input", first.usage.input_tokens, claude.usage.input_tokens),
            ("output", first.usage.output_tokens, claude.usage.output_tokens)):
        by_model = _sums(world.usage(group_by="model", unit="TOKENS", kind=kind))
        assert by_model[("TOKENS", "hello")] == 2 * openai_tokens
        assert by_model[("TOKENS", "claude-hello")] == 2 * anthropic_tokens
    identities = _sums(world.usage(group_by="identity_id", unit="COUNT"))
    assert identities == {("COUNT", world.member.id): 6}


def test_usage_is_for_members_only(world: World) -> None:
    outsider = httpx.get(f"{world.server.url}/api/v1/usage", params={"organization_id": world.organization_id},
                         headers={"Authorization": f"Bearer {world.outsider.token}"})
    assert outsider.status_code == 404
    member = httpx.get(f"{world.server.url}/api/v1/usage", params={"organization_id": world.organization_id},
                       headers={"Authorization": f"Bearer {world.member.token}"})
    assert member.status_code == 200, member.text


def test_secrets_never_in_logs_responses_or_labels(world: World) -> None:
    """Runs after the calls above (same module, same server): nothing the platform printed, and no label of
    any usage record, holds a provider credential."""
    world.openai().responses.create(model="echo", input="hi")
    logs = world.server.logs
    assert "/v1/responses" in logs  # the access log is there to be read
    assert not [secret for secret in world.secrets if secret in logs]
    for label in ("model", "identity_id", "thread_id", "status", "kind", "resource_id"):
        report = json.dumps(world.usage(group_by=label))
        assert not [secret for secret in world.secrets if secret in report]
    listed = httpx.get(f"{world.server.url}/api/v1/llm-providers", headers={"Authorization": f"Bearer "
                                                                                         f"{world.owner.token}"})
    assert listed.status_code == 200 and not [secret for secret in world.secrets if secret in listed.text]


def test_agyn_usage_prints_the_table(server: Server, stub_url: str, tmp_path: Path) -> None:
    world = make_world(server, stub_url)
    world.openai().responses.create(model="echo", input="hi")
    world.openai().responses.create(model="echo", input="hi")
    world.wait_for_usage(lambda r: _sums(r).get(("COUNT", None)) == 2)
    options = ("--org", world.organization_id, "--api-url", server.url, "--token", world.member.token)

    table = agyn("usage", *options, cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    rows = [line.split() for line in table.stdout.splitlines()]
    assert ["│", "COUNT", "│", "echo", "│", "2", "│"] in rows
    assert ["│", "TOKENS", "│", "echo", "│", "30", "│"] in rows

    kinds = agyn("usage", *options, "--group-by", "kind", "--unit", "TOKENS", "--label", "model=echo",
                 "--granularity", "day", "--start", "1d", cwd=tmp_path)
    assert kinds.returncode == 0, kinds.stderr
    assert [row[-4:] for row in (line.split() for line in kinds.stdout.splitlines()) if "TOKENS" in row] == [
        ["cached", "│", "8", "│"], ["input", "│", "12", "│"], ["output", "│", "10", "│"]]

    printed = agyn("usage", *options, "--json", cwd=tmp_path)
    assert printed.returncode == 0 and json.loads(printed.stdout)["group_by"] == "model"
    outsider = agyn("usage", "--org", world.organization_id, "--api-url", server.url, "--token",
                    world.outsider.token, cwd=tmp_path)
    assert outsider.returncode == 1 and "404" in outsider.stderr
