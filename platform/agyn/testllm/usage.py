"""Real token counts for the test LLM's `usage`, so that metering has something to measure.

Input tokens are the count of the request's input (OpenAI: its input items; Anthropic: the system
prompt and messages); output tokens the count of the produced answer. A part the counter cannot read
is counted by its JSON text rather than failing the request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import orjson

from agyn.token_counting.counting import (
    CountingError,
    ItemCounter,
    count_text,
    estimate_anthropic_content,
    estimate_anthropic_input,
)


def count_openai_tokens(input_items: Sequence[dict[str, Any]], output_items: Sequence[dict[str, Any]], model: str
                        ) -> tuple[int, int]:
    counter = ItemCounter(model)
    return _count_items(counter, input_items) + (3 if input_items else 0), _count_items(counter, output_items)


MEMO_ITEM_BYTES = 8192


def _count_items(counter: ItemCounter, items: Sequence[dict[str, Any]]) -> int:
    total = 0
    for item in items:
        try:
            text = orjson.dumps(item)
        except orjson.JSONEncodeError:  # what the standard module reads and orjson does not write (huge ints)
            text = b""
        total += _count_json(counter.model, text) if 0 < len(text) <= MEMO_ITEM_BYTES else _count_item(counter, item)
    return total


@lru_cache(maxsize=4096)  # at most 4,096 items of 8 KB kept
def _count_json(model: str, text: bytes) -> int:
    """A conversation sends its whole history with every call: each item is counted once per model, then
    found by its JSON text, which costs a small fraction of counting it again."""
    return _count_item(ItemCounter(model), orjson.loads(text))


def _count_item(counter: ItemCounter, item: dict[str, Any]) -> int:
    try:
        return counter.count_item(item)
    except CountingError:
        return count_text(json.dumps(item), counter.encoding)


def count_anthropic_tokens(system: object, messages: Sequence[object], output_blocks: Sequence[dict[str, Any]]
                           ) -> tuple[int, int]:
    try:
        input_tokens = estimate_anthropic_input(system, messages)
    except CountingError:
        input_tokens = count_text(json.dumps({"system": system, "messages": list(messages)}), "cl100k_base")
    return input_tokens, estimate_anthropic_content(list(output_blocks))
