"""The proxy's routes are served in front of the framework: the gateway's request id, body limit, metrics
and access log still apply; the caller's body reaches the provider as sent but for `model`."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from prometheus_client import CollectorRegistry
from starlette.types import Message, Receive, Scope, Send

from agyn.gateway.middleware import HotRoutesMiddleware, RequestObserver
from agyn.kit.platform import HotRoute
from agyn.llm_proxy.endpoints import with_model
from agyn.settings import MeteringSettings
from tests.conftest import Api, User, assert_problem, running_api

MAX_BODY = 4096


@pytest_asyncio.fixture
async def proxied(database_url: str, tmp_path: Path, stub_url: str) -> AsyncIterator[tuple[Api, User, str]]:
    """A platform with a model on the echo provider; (api, a member, the model's id)."""
    async with running_api(database_url, tmp_path / "data", max_body_bytes=MAX_BODY,
                           metering=MeteringSettings(flush_interval=3600)) as api:
        owner, member = await api.user("owner"), await api.user("member")
        organization = await api.organization(owner)
        await api.add_member(organization["id"], member)
        provider = await api.client.post("/api/v1/llm-providers", headers=owner.headers, json={
            "organization_id": organization["id"], "endpoint": f"{stub_url}/echo/v1", "auth_method": "bearer",
            "token": "sk-hot-route-token"})
        assert provider.status_code == 201, provider.text
        model = await api.client.post("/api/v1/models", headers=owner.headers, json={
            "organization_id": organization["id"], "name": "echo", "llm_provider_id": provider.json()["id"],
            "remote_name": "echo-remote"})
        assert model.status_code == 201, model.text
        yield api, member, model.json()["id"]


async def test_a_proxied_call_gets_a_request_id_metrics_and_an_access_log_line(
        proxied: tuple[Api, User, str], caplog: pytest.LogCaptureFixture) -> None:
    api, member, model_id = proxied
    with caplog.at_level(logging.INFO, logger="agyn.access"):
        answer = await api.client.post("/v1/responses", headers={**member.headers, "X-Request-ID": "call-42"},
                                       json={"model": model_id, "input": "hi"})
        assert answer.status_code == 200, answer.text
        fresh = await api.client.post("/v1/responses", headers=member.headers, json={"model": model_id, "input": "hi"})
    assert answer.headers["x-request-id"] == "call-42"
    assert len(fresh.headers["x-request-id"]) == 32
    lines = [r for r in caplog.records if r.name == "agyn.access" and getattr(r, "path", None) == "/v1/responses"]
    assert [(r.method, r.status, r.identity_id) for r in lines] == [("POST", 200, member.id)] * 2  # type: ignore[attr-defined]
    metrics = (await api.client.get("/metrics")).text
    assert 'agyn_http_requests_total{method="POST",route="/v1/responses",status="200"} 2.0' in metrics


async def test_the_body_limit_applies_and_a_wrong_method_is_405(proxied: tuple[Api, User, str]) -> None:
    api, member, model_id = proxied
    too_big = await api.client.post("/v1/responses", headers=member.headers,
                                    json={"model": model_id, "input": "x" * MAX_BODY})
    assert_problem(too_big, 413, "resource_exhausted")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"model": "%s", "input": "' % model_id.encode()
        for _ in range(8):
            yield b"x" * 1024
        yield b'"}'

    streamed = await api.client.post("/v1/responses", headers=member.headers, content=chunks())
    assert_problem(streamed, 413, "resource_exhausted")
    assert (await api.client.get("/v1/responses", headers=member.headers)).status_code == 405
    assert (await api.client.post("/v1/models", headers=member.headers)).status_code == 405


async def test_the_body_reaches_the_provider_as_sent_but_for_the_model(proxied: tuple[Api, User, str]) -> None:
    api, member, model_id = proxied
    sent = ('{"input": [{"role": "user", "content": "caf\\u00e9 \\"model\\": ü"}],\n  "model" : "%s", '
            '"temperature": 0.50}' % model_id)
    answer = await api.client.post("/v1/responses", headers={**member.headers, "content-type": "application/json"},
                                   content=sent.encode())
    assert answer.status_code == 200, answer.text
    assert json.loads(answer.json()["output"][0]["content"][0]["text"])["model"] == "echo-remote"


@pytest.mark.parametrize(("body", "expected"), [
    # the key found and replaced; every other byte as sent (spacing, escapes, number spelling)
    (b'{"input": "tab\\t caf\xc3\xa9", "model" : "m1", "temperature": 0.50}',
     b'{"input": "tab\\t caf\xc3\xa9", "model" : "remote", "temperature": 0.50}'),
    (b'{"model":"m1","input":"say \\"mode\\": x"}', b'{"model":"remote","input":"say \\"mode\\": x"}'),
    # a nested `model` key: the document is encoded anew, with the top-level one replaced
    (b'{"model":"m1","metadata":{"model":"m1"}}', b'{"model":"remote","metadata":{"model":"m1"}}'),
    # the top-level key spelled with an escape, a nested one holding the same value: never the nested one
    (b'{"metadata":{"model":"m1"},"m\\u006fdel":"m1"}', b'{"metadata":{"model":"m1"},"model":"remote"}'),
    # a repeated key: the last one is what the document (and most providers) read
    (b'{"model":"m0","input":"x","model":"m1"}', b'{"model":"remote","input":"x"}'),
])
def test_only_the_top_level_model_is_replaced(body: bytes, expected: bytes) -> None:
    assert with_model(body, json.loads(body), "remote") == expected


async def test_hot_routes_bypass_the_framework_and_other_paths_reach_it() -> None:
    reached: list[str] = []

    async def framework(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(f"{scope['method']} {scope['path']}")
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        message: Message = await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"hot:" + message.get("body", b"")})

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = HotRoutesMiddleware(framework, [HotRoute("/hot", frozenset({"POST"}), endpoint),
                                          HotRoute("/fails", frozenset({"GET"}), failing)],
                              RequestObserver(CollectorRegistry()), max_body_bytes=MAX_BODY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hot.test") as client:
        hot = await client.post("/hot", content=b"body")
        assert (hot.status_code, hot.text) == (200, "hot:body") and hot.headers["x-request-id"]
        assert (await client.get("/hot")).status_code == 404  # a wrong method goes on to the framework
        assert (await client.post("/hot/more")).status_code == 404
        failed: Any = await client.get("/fails")
        assert_problem(failed, 500, "internal")
    assert reached == ["GET /hot", "POST /hot/more"]
