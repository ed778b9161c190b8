"""The test LLM's usage counts: the same whichever call counts an item first, per model."""

from __future__ import annotations

from agyn.testllm.usage import count_openai_tokens
from agyn.token_counting.counting import count_items

HISTORY = [{"type": "message", "role": "user", "content": "Bonjour, quel temps fait-il à Paris aujourd'hui ?"},
           {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "今天北京的天气很好。"}]}]


def test_an_item_counts_the_same_again_and_per_model() -> None:
    for model in ("gpt-4", "gpt-4o", "gpt-4"):  # cl100k_base, o200k_base, then cl100k_base found again
        for _ in range(2):
            assert count_openai_tokens(HISTORY, [], model)[0] == count_items(HISTORY, model).total
    assert count_items(HISTORY, "gpt-4").total != count_items(HISTORY, "gpt-4o").total  # the models differ


def test_an_item_orjson_cannot_write_is_counted_all_the_same() -> None:
    huge = {"type": "function_call_output", "call_id": "c", "output": "x", "extra": 2**70}
    assert count_openai_tokens([huge], [], "gpt-4o")[0] == count_items([huge], "gpt-4o").total
