"""ASGI middleware of the gateway: request ids, access logs, Prometheus metrics, body limits, hot routes.

Written as plain ASGI (not BaseHTTPMiddleware) so that streaming responses stay streamed and the
per-request overhead stays small.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agyn.kit.errors import PayloadTooLarge, problem, problem_response
from agyn.kit.jsonlimits import MAX_JSON_DEPTH, NOT_UTF8_MESSAGE, DepthScanner, depth_message
from agyn.kit.logging import request_id_var
from agyn.kit.platform import HotRoute

access_log = logging.getLogger("agyn.access")
log = logging.getLogger("agyn.gateway")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestObserver:
    """Request ids, access log lines and Prometheus metrics: one set for the framework's routes and
    the hot routes alike."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter("agyn_http_requests_total", "HTTP requests", ["method", "route", "status"],
                                registry=registry)
        self.latency = Histogram("agyn_http_request_duration_seconds", "HTTP request latency",
                                 ["method", "route"], registry=registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10))
        # labelled children looked up once (labels() takes a lock and builds a key each time)
        self._counters: dict[tuple[str, str, int], Counter] = {}
        self._histograms: dict[tuple[str, str], Histogram] = {}

    @staticmethod
    def request_id(scope: Scope) -> str:
        """A sane incoming `X-Request-ID`, or a new one."""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                return incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        return uuid.uuid4().hex

    def observe(self, scope: Scope, route: str, status: int, elapsed: float) -> None:
        method = scope["method"]
        counter = self._counters.get((method, route, status))
        if counter is None:
            counter = self._counters[(method, route, status)] = self.requests.labels(method, route, str(status))
        counter.inc()
        histogram = self._histograms.get((method, route))
        if histogram is None:
            histogram = self._histograms[(method, route)] = self.latency.labels(method, route)
        histogram.observe(elapsed)
        if access_log.isEnabledFor(logging.INFO):
            principal = getattr(scope.get("state", {}).get("principal"), "identity_id", None)
            access_log.info(
                "request",
                extra={"method": method, "path": scope["path"], "status": status,
                       "duration_ms": round(elapsed * 1000, 2), "identity_id": str(principal) if principal else None},
            )


class RequestContextMiddleware:
    """Assigns the request id (or keeps a sane incoming `X-Request-ID`), logs and measures."""

    def __init__(self, app: ASGIApp, observer: RequestObserver) -> None:
        self.app = app
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = self.observer.request_id(scope)
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.observer.observe(scope, _route_template(scope), status, time.perf_counter() - started)
            request_id_var.reset(token)


class BodyTooLarge(Exception):
    """A hot route's request body (sent without a length) grew past the limit."""


class HotRoutesMiddleware:
    """Serves the modules' hot routes (`kit.platform.HotRoute`) in front of the framework's whole stack:
    an exact path match, then straight to the endpoint with a request id, the body limit, metrics and
    the access log; everything else goes on to the framework.

    What it saves per call, measured on the LLM proxy: the framework's route matching over every
    router, its exception and exit-stack middleware and their wrapped `send`s (about a third of the
    proxy's CPU per call)."""

    def __init__(self, app: ASGIApp, routes: Iterable[HotRoute], observer: RequestObserver,
                 max_body_bytes: int) -> None:
        self.app = app
        self.routes = {route.path: route for route in routes}
        self.observer = observer
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] not in route.methods:
            await self.app(scope, receive, send)  # a wrong method gets the framework's 405
            return
        request_id = self.observer.request_id(scope)
        token = request_id_var.set(request_id)
        request_id_header = (b"x-request-id", request_id.encode())
        status = 0
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            await send(message)

        try:
            declared = _content_length(scope)
            if route.limits_body:
                await route.endpoint(scope, receive, send_with_id)
                return
            if declared is not None and declared > self.max_body_bytes:
                await self._too_large(scope, receive, send_with_id)
                return
            await route.endpoint(scope, receive if declared is not None else self._limited(receive), send_with_id)
        except BodyTooLarge:
            if not status:
                await self._too_large(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in a hot route", extra={"path": scope["path"]})
            if not status:
                body = problem(500, "internal", "Internal error", "an unexpected error occurred", None, scope["path"])
                await problem_response(body)(scope, receive, send_with_id)
        finally:
            self.observer.observe(scope, route.path, status or 500, time.perf_counter() - started)
            request_id_var.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge
            return message

        return limited_receive

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"the request body exceeds the limit of {self.max_body_bytes} bytes")
        await problem_response(error.to_problem(scope["path"]))(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so metrics do not explode with one label per id.

    The router records the route it dispatched to in `scope["route"]` (included routers are
    wrapped, so walking `app.router.routes` does not find them); unrouted requests share a label.
    """
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class BodyLimitMiddleware:
    """Rejects bodies over the limit with 413, by `Content-Length` or while streaming; `exempt` paths
    (streamed uploads) enforce limits of their own."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, exempt: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._reject(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, f"the request body exceeds the limit of {self.max_body_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        error = PayloadTooLarge(f"the request body exceeds the limit of {self.max_body_bytes} bytes")
        await problem_response(error.to_problem(scope["path"]))(scope, receive, send)



class JsonDepthMiddleware:
    """Refuses JSON bodies nested deeper than `MAX_JSON_DEPTH` with 400, measured as the body streams
    in and before anything parses it (parsers and validators recurse per level); and JSON that is not
    UTF-8, whose depth bytes cannot show. Streamed uploads (`exempt`) are files, never parsed."""

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_DEPTH, exempt: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _may_be_json(scope) or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        scanner = DepthScanner(self.limit)

        async def scanned_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and not scanner.feed(message.get("body", b"")):
                raise HTTPException(400, f"body: {NOT_UTF8_MESSAGE if scanner.not_utf8 else depth_message(self.limit)}")
            return message

        await self.app(scope, scanned_receive, send)


def _may_be_json(scope: Scope) -> bool:
    """A body FastAPI would parse as JSON: declared JSON (`application/json`, `*/*+json`) or undeclared."""
    content_type: bytes | None = dict(scope["headers"]).get(b"content-type")
    if content_type is None:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media.endswith(b"/json") or media.endswith(b"+json")
