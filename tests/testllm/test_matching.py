"""The matching rules, one by one, on normalised request items."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agyn.testllm.matching import (
    BlockMessage,
    FunctionCall,
    FunctionCallOutput,
    Match,
    Message,
    Mismatch,
    RequestItem,
    match_input,
)
from agyn.testllm.suites import ScriptItem, parse_suite


def script(*items: dict[str, Any], protocol: str = "openai") -> list[ScriptItem]:
    suite = parse_suite({"name": "t", "protocol": protocol, "tests": {"t": list(items)}}, Path("t.yaml"))
    scripted: list[ScriptItem] = suite.tests["t"]
    return scripted


def user(text: str) -> Message:
    return Message("user", text)


def assistant(text: str) -> Message:
    return Message("assistant", text)


def answers(result: Match | Mismatch) -> list[str]:
    assert isinstance(result, Match), result
    return [str(getattr(item, "content", None) or getattr(item, "name", "")) for item in result.outputs]


def mismatch(result: Match | Mismatch, code: str) -> Mismatch:
    assert isinstance(result, Mismatch), result
    assert result.code == code, result.message
    return result


WEATHER = script(
    {"type": "message", "role": "user", "any_content": True},
    {"type": "function_call", "call_id": "fc_1", "name": "get_weather", "arguments": '{"city": "Paris"}'},
    {"type": "function_call_output", "call_id": "fc_1", "output": '{"t": 18}'},
    {"type": "message", "role": "assistant", "content": "18 degrees."},
)
STATE = script(
    {"type": "message", "role": "user", "content_contains": "hi"},
    {"type": "message", "role": "assistant", "content": "Hi! How are you?"},
    {"type": "message", "role": "user", "content_contains": "fine"},
    {"type": "message", "role": "assistant", "content": "How can I help you?"},
)
CALL = FunctionCall("fc_1", "get_weather", '{"city": "Paris"}')


def test_prefix_walk_answers_the_first_output_after_the_matched_input() -> None:
    assert answers(match_input(STATE, [user("hi there")])) == ["Hi! How are you?"]


def test_history_echo_replays_earlier_turns() -> None:
    request: list[RequestItem] = [user("hi"), assistant("Hi! How are you?"), user("fine, thanks")]
    assert answers(match_input(STATE, request)) == ["How can I help you?"]


def test_a_wrong_echo_is_a_mismatch_at_its_position() -> None:
    request: list[RequestItem] = [user("hi"), assistant("Something else"), user("fine")]
    result = mismatch(match_input(STATE, request), "input_mismatch")
    assert result.position == 1
    assert "Hi! How are you?" in result.message and "Something else" in result.message


def test_tool_call_and_its_output_are_replayed() -> None:
    assert answers(match_input(WEATHER, [user("weather?")])) == ["get_weather"]
    request: list[RequestItem] = [user("weather?"), CALL, FunctionCallOutput("fc_1", '{"t": 18}')]
    assert answers(match_input(WEATHER, request)) == ["18 degrees."]


def test_function_output_equal_as_json_ignoring_key_order_and_spacing() -> None:
    tool = script(
        {"type": "message", "role": "user", "any_content": True},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": '{"a": 1, "b": [true, {"c": null}]}'},
        {"type": "message", "role": "assistant", "content": "done"},
    )
    base: list[RequestItem] = [user("x"), FunctionCall("c", "f", "{}")]
    assert answers(match_input(tool, [*base, FunctionCallOutput("c", '{"b":[true,{"c":null}],"a":1.0}')])) == ["done"]
    mismatch(match_input(tool, [*base, FunctionCallOutput("c", '{"b":[1,{"c":null}],"a":1}')]), "input_mismatch")
    mismatch(match_input(tool, [*base, FunctionCallOutput("other", '{"a": 1, "b": [true, {"c": null}]}')]),
             "input_mismatch")


def test_function_call_arguments_compare_as_strings() -> None:
    request: list[RequestItem] = [user("x"), FunctionCall("fc_1", "get_weather", '{"city":"Paris"}'),
                                  FunctionCallOutput("fc_1", '{"t": 18}')]
    result = mismatch(match_input(WEATHER, request), "input_mismatch")
    assert result.position == 1


def test_any_content_matches_any_text_of_the_role() -> None:
    simple = script({"type": "message", "role": "user", "any_content": True},
                    {"type": "message", "role": "assistant", "content": "ok"})
    assert answers(match_input(simple, [user("")])) == ["ok"]
    mismatch(match_input(simple, [Message("system", "x")]), "input_mismatch")


def test_any_role_matches_any_role() -> None:
    simple = script({"type": "message", "any_role": True, "content": "x"},
                    {"type": "message", "role": "assistant", "content": "ok"})
    for role in ("user", "system", "developer"):
        assert answers(match_input(simple, [Message(role, "x")])) == ["ok"]
    mismatch(match_input(simple, [Message("user", "y")]), "input_mismatch")


def test_content_contains_is_a_substring_of_the_same_role() -> None:
    header = "thread: 1\nfrom: user\n---\nhi there"
    assert answers(match_input(STATE, [user(header)])) == ["Hi! How are you?"]
    mismatch(match_input(STATE, [Message("system", "hi")]), "input_mismatch")
    mismatch(match_input(STATE, [user("hello")]), "input_mismatch")


def test_exact_content_must_be_equal() -> None:
    exact = script({"type": "message", "role": "system", "content": "You are personal assistant"},
                   {"type": "message", "role": "user", "content_contains": "hi"},
                   {"type": "message", "role": "assistant", "content": "Hello!"})
    assert answers(match_input(exact, [Message("system", "You are personal assistant"), user("hi")])) == ["Hello!"]
    mismatch(match_input(exact, [Message("system", "You are a personal assistant"), user("hi")]), "input_mismatch")


REPEAT = script(
    {"type": "message", "any_role": True, "any_content": True, "repeat": True},
    {"type": "message", "role": "user", "content": "go"},
    {"type": "message", "role": "assistant", "content": "went"},
)


def test_repeat_consumes_one_or_more_messages() -> None:
    assert answers(match_input(REPEAT, [Message("developer", "a"), user("go")])) == ["went"]
    assert answers(match_input(REPEAT, [Message("developer", "a"), user("b"), user("c"), user("go")])) == ["went"]
    mismatch(match_input(REPEAT, [user("go")]), "input_mismatch")  # at least one


def test_repeat_is_greedy_and_backtracks() -> None:
    # Greedy first takes all three messages, finds nothing left for "go", and gives one back.
    greedy = script(
        {"type": "message", "any_role": True, "any_content": True, "repeat": True},
        {"type": "message", "role": "user", "content_contains": "o"},
        {"type": "message", "role": "assistant", "content": "done"},
    )
    assert answers(match_input(greedy, [user("go"), user("go"), user("go")])) == ["done"]
    assert answers(match_input(greedy, [user("x"), user("go")])) == ["done"]
    mismatch(match_input(greedy, [user("x"), user("y")]), "input_mismatch")


def test_repeat_leaves_echoed_answers_to_the_history_walk() -> None:
    looped = script(
        {"type": "message", "any_role": True, "any_content": True, "repeat": True},
        {"type": "message", "role": "assistant", "content": "first"},
        {"type": "message", "role": "user", "content": "again"},
        {"type": "message", "role": "assistant", "content": "second"},
    )
    assert answers(match_input(looped, [user("a"), user("b")])) == ["first"]
    assert answers(match_input(looped, [user("a"), user("b"), assistant("first"), user("again")])) == ["second"]


def test_consecutive_outputs_come_back_together() -> None:
    both = script({"type": "message", "role": "user", "any_content": True},
                  {"type": "message", "role": "assistant", "content": "Let me look."},
                  {"type": "function_call", "call_id": "c", "name": "look", "arguments": "{}"},
                  {"type": "function_call_output", "call_id": "c", "output": "seen"},
                  {"type": "message", "role": "assistant", "content": "Seen."})
    assert answers(match_input(both, [user("?")])) == ["Let me look.", "look"]
    request: list[RequestItem] = [user("?"), assistant("Let me look."), FunctionCall("c", "look", "{}"),
                                  FunctionCallOutput("c", "seen")]
    assert answers(match_input(both, request)) == ["Seen."]


def test_input_beyond_the_script_is_sequence_exhausted() -> None:
    request: list[RequestItem] = [user("hi"), assistant("Hi! How are you?"), user("fine"),
                                  assistant("How can I help you?"), user("more")]
    result = mismatch(match_input(STATE, request), "sequence_exhausted")
    assert "Input extends beyond the defined test sequence" in result.message
    assert result.position == 4


def test_a_new_input_where_an_answer_is_due_is_sequence_exhausted() -> None:
    simple = script({"type": "message", "role": "user", "any_content": True},
                    {"type": "message", "role": "assistant", "content": "ok"})
    result = mismatch(match_input(simple, [user("a"), user("b")]), "sequence_exhausted")
    assert result.position == 1


def test_a_shorter_input_is_a_mismatch_naming_what_was_expected() -> None:
    request: list[RequestItem] = [user("hi"), assistant("Hi! How are you?")]
    result = mismatch(match_input(STATE, request), "input_mismatch")
    assert result.position == 2 and "fine" in result.message and "nothing" in result.message
    finished: list[RequestItem] = [user("hi"), assistant("Hi! How are you?"), user("fine"),
                                   assistant("How can I help you?")]
    assert "nothing is left to answer" in mismatch(match_input(STATE, finished), "sequence_exhausted").message
    two_inputs = script({"type": "message", "role": "user", "content": "a"},
                        {"type": "message", "role": "user", "content": "b"},
                        {"type": "message", "role": "assistant", "content": "ok"})
    short = mismatch(match_input(two_inputs, [user("a")]), "input_mismatch")
    assert short.position == 1 and "nothing" in short.message


def test_mismatch_message_names_position_expected_and_actual() -> None:
    result = mismatch(match_input(WEATHER, [user("x"), FunctionCall("fc_9", "get_weather", "{}")]),
                      "input_mismatch")
    assert result.message.startswith("Input mismatch at position 1: expected function_call ")
    assert '"call_id": "fc_1"' in result.message and '"call_id": "fc_9"' in result.message


def test_type_must_be_equal() -> None:
    mismatch(match_input(WEATHER, [FunctionCallOutput("fc_1", "x")]), "input_mismatch")


# --- Anthropic ------------------------------------------------------------------------------------

def text(role: str, value: str) -> BlockMessage:
    return BlockMessage(role, ({"type": "text", "text": value},))


CLAUDE_TOOLS = script(
    {"type": "anthropic_system", "any_content": True},
    {"type": "anthropic_message", "role": "user", "content_contains": "list"},
    {"type": "anthropic_message", "role": "assistant", "content_blocks": [
        {"type": "tool_use", "id": "t1", "name": "ls", "input": {"path": "/", "all": True}}]},
    {"type": "anthropic_message", "role": "user", "content_blocks": [
        {"type": "tool_result", "tool_use_id": "t1", "content": '{"files": ["a"]}'}]},
    {"type": "anthropic_message", "role": "assistant", "content": "One file: a."},
    protocol="anthropic",
)
TOOL_USE = BlockMessage("assistant", ({"type": "tool_use", "id": "t1", "name": "ls", "input": {"all": True, "path": "/"}},))


def test_anthropic_assistant_item_is_the_answer_when_no_more_messages() -> None:
    result = match_input(CLAUDE_TOOLS, [text("system", "sys"), text("user", "please list")], single_output=True)
    assert isinstance(result, Match) and len(result.outputs) == 1


def test_anthropic_echo_and_tool_result_deep_equal() -> None:
    result_block = {"type": "tool_result", "tool_use_id": "t1", "content": [{"type": "text", "text": '{"files":["a"]}'}]}
    request: list[RequestItem] = [text("system", "sys"), text("user", "please list"), TOOL_USE,
                                  BlockMessage("user", (result_block,))]
    assert answers(match_input(CLAUDE_TOOLS, request, single_output=True)) == ["One file: a."]
    wrong_input = BlockMessage("assistant", ({"type": "tool_use", "id": "t1", "name": "ls", "input": {"path": "/"}},))
    result = mismatch(match_input(CLAUDE_TOOLS, [text("system", "s"), text("user", "list"), wrong_input,
                                                 BlockMessage("user", (result_block,))], single_output=True),
                      "input_mismatch")
    assert result.position == 2


def test_anthropic_system_must_match_when_scripted() -> None:
    exact = script({"type": "anthropic_system", "content": "Be brief."},
                   {"type": "anthropic_message", "role": "user", "any_content": True},
                   {"type": "anthropic_message", "role": "assistant", "content": "ok"}, protocol="anthropic")
    assert isinstance(match_input(exact, [text("system", "Be brief."), text("user", "x")]), Match)
    result = mismatch(match_input(exact, [text("system", "Be long."), text("user", "x")]), "input_mismatch")
    assert result.position == 0 and "anthropic_system" in result.message


@pytest.mark.parametrize("blocks", [
    ({"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}),
    ({"type": "text", "text": "hello"},),
])
def test_anthropic_text_content_is_the_concatenated_text(blocks: tuple[dict[str, Any], ...]) -> None:
    exact = script({"type": "anthropic_message", "role": "user", "content": "hello"},
                   {"type": "anthropic_message", "role": "assistant", "content": "ok"}, protocol="anthropic")
    assert isinstance(match_input(exact, [BlockMessage("user", blocks)]), Match)


def test_scripts_without_repeat_match_by_prefix_exactly_as_the_backtracking_matcher() -> None:
    """The linear matcher answers what the general one answers, run after run as the segments grow (the
    failure's kind, position and texts included), on conversations that diverge at random places."""
    import random

    from agyn.testllm.matching import _PrefixMatcher, _SegmentMatcher

    rng = random.Random(7)
    kinds = [
        ({"type": "message", "role": "user", "content": "a"}, user("a")),
        ({"type": "message", "role": "user", "content_contains": "b"}, user("xbx")),
        ({"type": "message", "role": "user", "any_content": True}, user("anything")),
        ({"type": "message", "any_role": True, "content": "c"}, Message("system", "c")),
        ({"type": "message", "role": "assistant", "content": "ok"}, assistant("ok")),
        ({"type": "function_call", "call_id": "f", "name": "n", "arguments": "{}"}, FunctionCall("f", "n", "{}")),
        ({"type": "function_call_output", "call_id": "f", "output": '{"x": 1}'}, FunctionCallOutput("f", '{"x":1}')),
    ]
    compared = 0
    for _ in range(300):
        chosen = [rng.choice(kinds) for _ in range(rng.randint(1, 12))]
        segments = script(*(raw for raw, _ in chosen), kinds[4][0])[:-1]  # a suite needs an answer somewhere
        request: list[RequestItem] = [item for _, item in chosen]
        if rng.random() < 0.5:  # diverge: change, drop or add an item somewhere
            at = rng.randrange(len(request))
            request[at:at + 1] = rng.choice([[user("zzz")], [], [request[at], assistant("extra")]])
        grown: list[ScriptItem] = []
        prefix = _PrefixMatcher(grown, request)
        for segment in segments:
            grown.append(segment)
            assert prefix.run() == _SegmentMatcher(grown, request).run()
            compared += 1
    assert compared > 1000
