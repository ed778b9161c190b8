from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TokenCountRequest(BaseModel):
    model: str = Field(min_length=1, description="The model whose tokenizer counts, e.g. `gpt-4o`, `gpt-5`, "
                                                 "`claude-sonnet-4-5` (Claude models get an estimate).")
    input: list[dict[str, Any]] = Field(description="OpenAI Responses API input items.")


class ItemTokenCount(BaseModel):
    index: int
    type: str
    tokens: int


class TokenCountResponse(BaseModel):
    items: list[ItemTokenCount]
    request_overhead: int = Field(description="Tokens a request costs beyond its items (OpenAI primes every "
                                              "reply with 3); included in `total`.")
    total: int
