"""`POST /v1/responses`, `POST /v1/messages`, `GET /v1/models`: plain ASGI endpoints, served as hot routes
in front of the framework (`gateway.middleware.HotRoutesMiddleware`; docs/llm-proxy.md).

No FastAPI dependencies and no request transaction around them: the hot path reads the caches (a
session opens only on a miss), and a streamed answer flows through chunk by chunk while nothing
else is held. Every failure is answered in the caller's protocol.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

import aiohttp
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from agyn.kit import jsonlimits
from agyn.kit.ids import uuid7
from agyn.kit.platform import HotRoute, Platform
from agyn.kit.routing import ModuleRouter
from agyn.llm_proxy.protocols import Protocol, ProxyError, StreamMeter, body_usage
from agyn.llm_proxy.service import Call, LLMProxyService
from agyn.llm_proxy.upstream import forwarded_headers, returned_headers

log = logging.getLogger("agyn.llm_proxy")

Headers = Sequence[tuple[bytes, bytes]]
REDACTED = b"[redacted]"


class ClientGone(Exception):
    """The caller disconnected before its request arrived whole."""


def _caller(headers: Headers) -> tuple[str | None, bytes | None, bytes | None]:
    """(the agyn credential, x-agyn-organization-id, x-agyn-thread-id) from the request's headers."""
    authorization = api_key = organization = thread = None
    for name, value in headers:
        if name == b"authorization":
            authorization = value
        elif name == b"x-api-key":
            api_key = value
        elif name == b"x-agyn-organization-id":
            organization = value
        elif name == b"x-agyn-thread-id":
            thread = value
    credential = None
    if authorization is not None:
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() == "bearer":
            credential = token.strip()
    if not credential and api_key is not None:
        credential = api_key.decode("latin-1").strip()
    return credential, organization, thread


def _organization(value: bytes | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value.decode("latin-1").strip())
    except ValueError:
        raise ProxyError(400, "invalid_request", "x-agyn-organization-id must be an organization's id") from None


async def _read_body(receive: Receive) -> bytes:
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if not message.get("more_body"):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = (
        (b"content-type", b"application/json"),)) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return


def _proxy(scope: Scope) -> LLMProxyService:
    platform: Platform = scope["app"].state.platform
    return platform.get(LLMProxyService)


_MODEL_KEY = re.compile(rb'"model"\s*:\s*')
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_ESCAPED_KEY = re.compile(rb'\\[^"\\]*"\s*:')
"""What a key with an escape in it ends like (`"m\u006fdel":`); also found in some text, which only
costs a re-encoding."""


def with_model(body: bytes, document: dict[str, Any], remote_name: str) -> bytes:
    """The caller's body with the top-level `model` set to `remote_name` and every other byte as sent
    (a conversation that may be megabytes long is not encoded again).

    An unescaped `"model"` followed by a colon is always an object key (a quote inside a string is
    escaped). So when the body has exactly one, and no key spelled with escapes, that one is the
    top-level key the document was read from; otherwise the document is encoded anew."""
    keys = _MODEL_KEY.findall(body)
    if len(keys) == 1 and _ESCAPED_KEY.search(body) is None:
        key = _MODEL_KEY.search(body)
        value = _STRING.match(body, key.end()) if key is not None else None
        if value is not None and json.loads(value.group()) == document.get("model"):
            return b"".join((body[:value.start()], json.dumps(remote_name).encode(), body[value.end():]))
    return json.dumps({**document, "model": remote_name}, ensure_ascii=False, separators=(",", ":")).encode()


def _secrets(call: Call) -> list[bytes]:
    model = call.model
    values = [model.token or "", *model.headers.values()]
    return [value.encode() for value in values if len(value) >= 4]


def _redact(body: bytes, secrets: list[bytes]) -> bytes:
    """A provider that echoes its credentials (some error messages do) must not hand them to the caller."""
    for secret in secrets:
        if secret in body:
            body = body.replace(secret, REDACTED)
    return body


class ProxyEndpoint:
    """One protocol's endpoint: a hot route bound to the platform's proxy service (or, under the
    framework's router, finding it through the app)."""

    def __init__(self, protocol: Protocol, proxy: LLMProxyService | None = None) -> None:
        self.protocol = protocol
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        proxy = self.proxy or _proxy(scope)
        protocol = self.protocol
        try:
            credential, organization, thread = _caller(scope["headers"])
            principal = await proxy.authenticate(credential)
            scope.setdefault("state", {})["principal"] = principal  # for the access log
            body = await _read_body(receive)
            try:
                document = jsonlimits.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise ProxyError(400, "invalid_json", "the request body is not valid JSON") from None
            if not isinstance(document, dict):
                raise ProxyError(400, "invalid_request", "the request body must be a JSON object")
            model = await proxy.resolve(principal, document.get("model"), _organization(organization))
            if model.protocol != protocol:
                other = Protocol(model.protocol).endpoint
                raise ProxyError(400, "protocol_mismatch", f"model {document.get('model')!r} is served over the "
                                                           f"{model.protocol} protocol: call {other}")
        except ProxyError as error:
            await _respond(send, error.status, error.body(protocol))
            return
        except ClientGone:
            return
        call = Call(id=uuid7(), principal=principal, model=model,
                    thread_id=str(principal.scope.thread_id) if principal.scope is not None else
                    thread.decode("latin-1")[:255] if thread else None,
                    started_at=proxy.platform.clock.now())
        payload = with_model(body, document, model.remote_name)
        await self._forward(proxy, call, payload, scope, receive, send)

    async def _forward(self, proxy: LLMProxyService, call: Call, payload: bytes, scope: Scope, receive: Receive,
                       send: Send) -> None:
        protocol = self.protocol
        url = call.model.endpoint.rstrip("/") + protocol.path
        call_header = (b"x-agyn-call-id", str(call.id).encode())
        try:
            response = await proxy.upstream.post(url, payload, forwarded_headers(scope["headers"], call.model))
        except Exception as error:
            failure = self._failure(call, error)
            proxy.meter(call, protocol, None, succeeded=False)
            await _respond(send, failure.status, failure.body(protocol),
                           ((b"content-type", b"application/json"), call_header))
            return
        try:
            headers = [*returned_headers(response.raw_headers), call_header]
            if response.content_type == "text/event-stream":
                await self._stream(proxy, call, response, headers, receive, send)
                return
            try:
                body = await response.read()
            except Exception as error:
                failure = self._failure(call, error)
                proxy.meter(call, protocol, None, succeeded=False)
                await _respond(send, failure.status, failure.body(protocol),
                               ((b"content-type", b"application/json"), call_header))
                return
            body = _redact(body, _secrets(call))
            succeeded = 200 <= response.status < 300
            proxy.meter(call, protocol, body_usage(protocol, body) if succeeded else None, succeeded)
            await _respond(send, response.status, body, headers)
        finally:
            response.release()

    async def _stream(self, proxy: LLMProxyService, call: Call, response: aiohttp.ClientResponse,
                      headers: list[tuple[bytes, bytes]], receive: Receive, send: Send) -> None:
        """Each chunk goes to the caller as it arrives; the usage is read off the final events."""
        meter = StreamMeter(self.protocol)
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        watch = asyncio.ensure_future(_wait_for_disconnect(receive))
        failure: ProxyError | None = None
        gone = False
        try:
            async for chunk in response.content.iter_any():
                meter.feed(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if watch.done():  # the caller left: stop the provider's work too
                    gone = True
                    response.close()
                    break
        except Exception as error:
            failure = self._failure(call, error)
        finally:
            watch.cancel()
        if failure is not None:
            await send({"type": "http.response.body", "body": failure.event(self.protocol), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        succeeded = failure is None and not gone and meter.finished and not meter.failed and response.status < 300
        proxy.meter(call, self.protocol, meter.usage, succeeded)

    def _failure(self, call: Call, error: Exception) -> ProxyError:
        """An upstream that could not be reached (502) or did not answer in time (504)."""
        name = call.model.name
        if isinstance(error, TimeoutError):
            log.warning("LLM provider timed out", extra={"model_id": str(call.model.model_id),
                                                         "call_id": str(call.id)})
            return ProxyError(504, "upstream_timeout", f"the provider of model {name!r} did not answer in time")
        if isinstance(error, aiohttp.ClientError | OSError | ValueError):
            log.warning("LLM provider unreachable", extra={"model_id": str(call.model.model_id),
                                                           "call_id": str(call.id), "error": type(error).__name__})
            return ProxyError(502, "upstream_unreachable", f"the provider of model {name!r} could not be reached")
        raise error


class ModelsEndpoint:
    """`GET /v1/models`: the models the caller may use, in a list both SDKs read."""

    def __init__(self, proxy: LLMProxyService | None = None) -> None:
        self.proxy = proxy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        proxy = self.proxy or _proxy(scope)
        try:
            credential, _, _ = _caller(scope["headers"])
            principal = await proxy.authenticate(credential)
        except ProxyError as error:
            await _respond(send, error.status, error.body(Protocol.responses))
            return
        scope.setdefault("state", {})["principal"] = principal
        data: list[dict[str, Any]] = []
        for model, protocol in await proxy.usable_models(principal):
            data.append({
                "id": str(model.id), "object": "model", "type": "model", "created": int(model.created_at.timestamp()),
                "created_at": model.created_at.isoformat(), "display_name": model.name, "owned_by":
                str(model.organization_id), "name": model.name, "organization_id": str(model.organization_id),
                "protocol": protocol, "endpoint": Protocol(protocol).endpoint})
        document = {"object": "list", "data": data, "has_more": False,
                    "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}
        await _respond(send, 200, json.dumps(document).encode())


def hot_routes(platform: Platform) -> list[HotRoute]:
    """The proxy's routes, served in front of the framework (the router below answers wrong methods)."""
    proxy = platform.get(LLMProxyService)
    return [HotRoute("/v1/responses", frozenset({"POST"}), ProxyEndpoint(Protocol.responses, proxy)),
            HotRoute("/v1/messages", frozenset({"POST"}), ProxyEndpoint(Protocol.anthropic_messages, proxy)),
            HotRoute("/v1/models", frozenset({"GET"}), ModelsEndpoint(proxy))]


router = ModuleRouter(tags=["llm-proxy"])
router.routes.extend([
    Route("/v1/responses", ProxyEndpoint(Protocol.responses), methods=["POST"], include_in_schema=False),
    Route("/v1/messages", ProxyEndpoint(Protocol.anthropic_messages), methods=["POST"], include_in_schema=False),
    Route("/v1/models", ModelsEndpoint(), methods=["GET"], include_in_schema=False),
])
