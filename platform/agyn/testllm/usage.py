"""Real token counts for the test LLM's `usage`, so that metering has something to measure.

Input tokens are the count of the request's input (OpenAI: its input items; Anthropic: the system
prompt and messages); output tokens the count of the produced answer. A part the counter cannot read
is counted by its JSON text rather than failing the request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

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


def _count_items(counter: ItemCounter, items: Sequence[dict[str, Any]]) -> int:
    total = 0
    for index, item in enumerate(items):
        try:
            total += counter.count_item(item, index)
        except CountingError:
            total += count_text(json.dumps(item), counter.encoding)
    return total


def count_anthropic_tokens(system: object, messages: Sequence[object], output_blocks: Sequence[dict[str, Any]]
                           ) -> tuple[int, int]:
    try:
        input_tokens = estimate_anthropic_input(system, messages)
    except CountingError:
        input_tokens = count_text(json.dumps({"system": system, "messages": list(messages)}), "cl100k_base")
    return input_tokens, estimate_anthropic_content(list(output_blocks))
