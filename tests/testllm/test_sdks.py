"""End to end with the official SDKs against a real server: the scripted answers, streaming, tools, errors."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from agyn.token_counting.counting import count_items


def openai_client(server_url: str, suite: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server_url}/{suite}/v1", api_key="ignored", max_retries=0)


def anthropic_client(server_url: str, suite: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{server_url}/{suite}", api_key="ignored", max_retries=0)


# --- OpenAI Responses ----------------------------------------------------------------------------

def test_openai_create(server_url: str) -> None:
    response = openai_client(server_url, "agn").responses.create(model="simple-hello", input="hi")
    assert response.output_text == "Hi! How are you?"
    assert response.status == "completed"
    assert response.usage is not None
    assert response.usage.input_tokens == count_items([{"type": "message", "role": "user", "content": "hi"}],
                                                      "simple-hello").total
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_openai_stream_events(server_url: str) -> None:
    client = openai_client(server_url, "agn")
    events = list(client.responses.create(model="simple-hello", input="hi", stream=True))
    assert [event.type for event in events] == [
        "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
        "response.output_text.delta", "response.output_text.done", "response.content_part.done",
        "response.output_item.done", "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = [event.delta for event in events if event.type == "response.output_text.delta"]
    assert deltas == ["Hi! How are you?"]
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Hi! How are you?"
    assert completed.response.usage is not None and completed.response.usage.input_tokens > 0


def test_openai_stream_helper(server_url: str) -> None:
    client = openai_client(server_url, "agn")
    with client.responses.stream(model="simple-hello", input="hi") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert text == final.output_text == "Hi! How are you?"


@pytest.mark.parametrize("stream", [False, True])
def test_openai_tool_call_round_trip(server_url: str, stream: bool) -> None:
    client = openai_client(server_url, "demo")
    tools: Any = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}]
    history: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    first: Any
    if stream:
        with client.responses.stream(model="weather", input=history, tools=tools) as events:
            first = events.get_final_response()
    else:
        first = client.responses.create(model="weather", input=history, tools=tools)
    call = first.output[0]
    assert call.type == "function_call"
    assert (call.call_id, call.name, call.arguments) == ("fc_1", "get_weather", '{"city": "Paris"}')

    history += [call.model_dump(exclude_none=True),
                {"type": "function_call_output", "call_id": call.call_id, "output": '{ "t" : 18 }'}]
    second = client.responses.create(model="weather", input=history, tools=tools)
    assert second.output_text == "18 degrees."


def test_openai_mismatch_is_a_bad_request_with_the_reference_code(server_url: str) -> None:
    client = openai_client(server_url, "agn")
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model="simple-hello", input="good morning")
    assert error.value.code == "input_mismatch"
    assert "position 0" in error.value.message and "good morning" in error.value.message


def test_openai_errors_are_json_even_when_streaming(server_url: str) -> None:
    client = openai_client(server_url, "agn")
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model="simple-hello", input="good morning", stream=True)
    assert error.value.code == "input_mismatch"


def test_openai_sequence_exhausted(server_url: str) -> None:
    client = openai_client(server_url, "agn")
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model="simple-hello", input=[
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hi! How are you?"},
            {"role": "user", "content": "and then?"}])
    assert error.value.code == "sequence_exhausted"


def test_openai_unknown_model_and_suite(server_url: str) -> None:
    with pytest.raises(openai.NotFoundError) as error:
        openai_client(server_url, "agn").responses.create(model="no-such-test", input="hi")
    assert error.value.code == "model_not_found"
    with pytest.raises(openai.NotFoundError) as error:
        openai_client(server_url, "no-such-suite").responses.create(model="simple-hello", input="hi")
    assert error.value.code == "suite_not_found"


# --- Anthropic Messages --------------------------------------------------------------------------

def test_anthropic_create(server_url: str) -> None:
    message = anthropic_client(server_url, "claude-demo").messages.create(
        model="hello", max_tokens=100, system="Be brief.", messages=[{"role": "user", "content": "hi there"}])
    assert message.content[0].type == "text" and message.content[0].text == "Hi! How are you?"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0


def test_anthropic_stream(server_url: str) -> None:
    client = anthropic_client(server_url, "claude-demo")
    with client.messages.stream(model="hello", max_tokens=100, system=[{"type": "text", "text": "Be brief."}],
                                messages=[{"role": "user", "content": "hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Hi! How are you?"
    assert final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_anthropic_raw_stream_events(server_url: str) -> None:
    client = anthropic_client(server_url, "claude")
    events = list(client.messages.create(model="simple-hello", max_tokens=10, system="You are Claude Code.",
                                         messages=[{"role": "user", "content": "hello"}], stream=True))
    assert [event.type for event in events] == ["message_start", "content_block_start", "content_block_delta",
                                                "content_block_stop", "message_delta", "message_stop"]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_use_round_trip(server_url: str, stream: bool) -> None:
    client = anthropic_client(server_url, "claude-demo")
    tools: Any = [{"name": "get_weather", "input_schema": {"type": "object", "properties": {}}}]
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first: Any
    if stream:
        with client.messages.stream(model="weather", max_tokens=100, messages=messages, tools=tools) as events:
            first = events.get_final_message()
    else:
        first = client.messages.create(model="weather", max_tokens=100, messages=messages, tools=tools)
    assert first.stop_reason == "tool_use"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    tool_use = first.content[1]
    assert tool_use.type == "tool_use" and tool_use.input == {"city": "Paris"}

    messages += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use.id,
                                               "content": [{"type": "text", "text": '{"t":18}'}]}]}]
    second = client.messages.create(model="weather", max_tokens=100, messages=messages, tools=tools)
    assert second.content[0].type == "text" and second.content[0].text == "18 degrees."


def test_anthropic_mismatch_is_a_bad_request_with_the_reference_code(server_url: str) -> None:
    client = anthropic_client(server_url, "claude-demo")
    with pytest.raises(anthropic.BadRequestError) as error:
        client.messages.create(model="hello", max_tokens=10, system="Be long.",
                               messages=[{"role": "user", "content": "hi"}])
    body = error.value.body
    assert isinstance(body, dict)
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == "input_mismatch"
    assert "position 0" in body["error"]["message"]


def test_anthropic_suite_refuses_the_responses_endpoint(server_url: str) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        openai_client(server_url, "claude").responses.create(model="simple-hello", input="hi")
    assert error.value.code == "suite_protocol_mismatch"
    with pytest.raises(anthropic.BadRequestError) as other:
        anthropic_client(server_url, "agn").messages.create(model="simple-hello", max_tokens=5,
                                                            messages=[{"role": "user", "content": "hi"}])
    assert isinstance(other.value.body, dict) and other.value.body["error"]["code"] == "suite_protocol_mismatch"
