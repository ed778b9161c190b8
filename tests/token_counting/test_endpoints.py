from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Api


@pytest.fixture
async def client(api: Api) -> AsyncIterator[httpx.AsyncClient]:
    """The platform's client, signed in (the route needs a caller)."""
    api.client.headers.update(api.admin)
    yield api.client


async def test_token_counts_per_item_and_total(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/token-counts", json={"model": "gpt-4o", "input": [
        {"role": "user", "content": "hello world"},
        {"type": "function_call", "call_id": "fc_1", "name": "get_weather", "arguments": "{}"},
    ]})
    assert response.status_code == 200
    body = response.json()
    assert body["items"][0] == {"index": 0, "type": "message", "tokens": 6}
    assert body["items"][1]["type"] == "function_call"
    assert body["total"] == body["items"][0]["tokens"] + body["items"][1]["tokens"] + body["request_overhead"]


async def test_an_uncountable_item_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/token-counts", json={"model": "gpt-4o", "input": [{"type": "mystery"}]})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "input[0]" in response.json()["detail"]


async def test_missing_model_is_a_validation_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/token-counts", json={"input": []})
    assert response.status_code in (400, 422)
