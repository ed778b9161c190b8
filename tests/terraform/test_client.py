"""The provider's API client: which failures it retries, and how problems become diagnostics.

Retrying is about races the API reports (`retryable` 409s), which a local server does not produce on
demand, so these tests answer through httpx's MockTransport; everything else runs against the real
platform in the Terraform tests.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from tf.utils import Diagnostics

from agyn_provider.client import ApiClient, ApiError, report


def problem(status: int, code: str, detail: str, **extra: object) -> httpx.Response:
    return httpx.Response(status, headers={"content-type": "application/problem+json"},
                          json={"type": "about:blank", "title": code.replace("_", " ").capitalize(), "status": status,
                                "detail": detail, "code": code, **extra})


def client_answering(responses: list[httpx.Response], seen: list[httpx.Request],
                     sleeps: list[float]) -> ApiClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses.pop(0)

    return ApiClient("http://agyn.test", "agyn_token", transport=httpx.MockTransport(handle), sleep=sleeps.append)


RACE = problem(409, "already_exists", "a resource with these unique values already exists", retryable=True)
DUPLICATE = problem(409, "already_exists", "a model with name 'gpt-4o' already exists in this organization")


@pytest.mark.parametrize(("call", "success"), [
    (lambda c: c.create("/api/v1/models", {"name": "gpt-4o"}), httpx.Response(201, json={"id": "m1"})),
    (lambda c: c.delete("/api/v1/models", "m1"), httpx.Response(204)),
], ids=["create", "delete"])
def test_concurrency_conflicts_are_retried_with_backoff(call: Callable[[ApiClient], object],
                                                        success: httpx.Response) -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    call(client_answering([RACE, RACE, success], seen, sleeps))
    assert len(seen) == 3 and sleeps == [0.2, 0.4]
    assert len({r.headers.get("idempotency-key") for r in seen}) == 1  # a retried create is the same create
    assert seen[0].headers["authorization"] == "Bearer agyn_token"


def test_retries_stop_after_four_attempts() -> None:
    seen: list[httpx.Request] = []
    sleeps: list[float] = []
    client = client_answering([RACE] * 4, seen, sleeps)
    with pytest.raises(ApiError) as raised:
        client.create("/api/v1/models", {})
    assert raised.value.retryable and len(seen) == 4 and sleeps == pytest.approx([0.2, 0.4, 0.6])


def test_validation_conflicts_and_updates_are_not_retried() -> None:
    seen: list[httpx.Request] = []
    client = client_answering([DUPLICATE, RACE], seen, [])
    with pytest.raises(ApiError):
        client.create("/api/v1/models", {"name": "gpt-4o"})
    with pytest.raises(ApiError):
        client.update("/api/v1/models", "m1", {"name": "x"})
    assert len(seen) == 2


def test_gone_objects_read_as_none_and_delete_quietly() -> None:
    gone = problem(404, "not_found", "model m1 not found")
    seen: list[httpx.Request] = []
    client = client_answering([gone, gone], seen, [])
    assert client.get("/api/v1/models", "m1") is None
    client.delete("/api/v1/models", "m1")
    assert [(r.method, r.url.path) for r in seen] == [("GET", "/api/v1/models/m1"), ("DELETE", "/api/v1/models/m1")]


def test_problems_become_diagnostics_on_the_named_attributes() -> None:
    diags = Diagnostics()
    error = ApiError(400, "invalid_argument", "Invalid argument", "vault.address: must be an http(s) URL; body: x",
                     errors=[{"field": "vault.address", "message": "must be an http(s) URL"},
                             {"field": "body", "message": "x"}, {"field": "name", "message": "too long"}])
    report(diags, error, "Cannot create agyn_secret_provider", {"vault", "name"})
    assert [(d.summary, d.detail, d.path) for d in diags.diagnostics] == [
        ("Cannot create agyn_secret_provider: Invalid argument", error.detail, ["vault"]),
        ("Cannot create agyn_secret_provider: Invalid argument", "name: too long", ["name"]),
    ]


def test_an_unreachable_api_is_an_error_not_a_crash() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    client = ApiClient("http://agyn.test", "t", transport=httpx.MockTransport(refuse))
    with pytest.raises(ApiError) as raised:
        client.me()
    assert raised.value.code == "unavailable" and "connection refused" in raised.value.detail
