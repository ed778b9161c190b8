"""`POST /v1/traces`: OTLP/HTTP ingestion as a plain ASGI endpoint (a hot route, in front of the framework),
so every answer, failures included, is in OTLP's form and encoding, and the export's own size limits apply.

One transaction per export: the spans it stores are stored together, or none are.
"""

from __future__ import annotations

import logging

from google.rpc import code_pb2
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from agyn.api.workload_scope import require_allowed
from agyn.kit.errors import ProblemError, Unauthenticated
from agyn.kit.platform import HotRoute, Platform
from agyn.kit.routing import ModuleRouter
from agyn.settings import Settings
from agyn.tracing import otlp
from agyn.tracing.otlp import OtlpError
from agyn.tracing.service import Accepted, TracingService

log = logging.getLogger("agyn.tracing")
PATH = "/v1/traces"


class ClientGone(Exception):
    pass


class TracesEndpoint:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.tracing = platform.get(TracingService)
        self.settings = platform.get(Settings).tracing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        media = otlp.JSON if "json" in headers.get("content-type", "").lower() else otlp.PROTOBUF
        try:
            media = otlp.media_type(headers.get("content-type"))
            body = await self._read(receive, headers.get("content-length"))
            accepted = await self._store(headers, body, media)
        except ClientGone:
            return
        except OtlpError as error:
            await _respond(send, error.status, otlp.failure(media, error), media)
            return
        await _respond(send, 200, otlp.success(media, accepted.rejected, accepted.reason), media)

    async def _read(self, receive: Receive, declared: str | None) -> bytes:
        limit = self.settings.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise otlp.too_large(f"the export is {declared} bytes; at most {limit} are accepted: send smaller batches")
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise otlp.too_large(f"the export exceeds {limit} bytes: send smaller batches")
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _store(self, headers: dict[str, str], body: bytes, media: str) -> Accepted:
        """Authenticate, then decode (a stranger's body is never parsed), then store, in one transaction."""
        credential = _bearer(headers.get("authorization"))
        async with self.platform.database.transaction() as session:
            try:
                principal = await self.platform.authenticator.authenticate(session, credential)
                if principal.scope is not None:
                    require_allowed(principal.scope, "POST", PATH)
            except Unauthenticated as error:
                raise OtlpError(401, code_pb2.UNAUTHENTICATED, error.detail) from None
            except ProblemError as error:
                raise OtlpError(403, code_pb2.PERMISSION_DENIED, error.detail) from None
            exporter = await self.tracing.exporter(principal, headers.get("x-agyn-organization-id"))
            plain = otlp.decompress(body, headers.get("content-encoding"), self.settings.max_body_bytes)
            spans = otlp.flatten(otlp.parse(plain, media))
            if len(spans) > self.settings.max_spans_per_export:
                raise otlp.too_large(f"{len(spans)} spans in one export; at most {self.settings.max_spans_per_export}"
                                     " are accepted: send smaller batches")
            now = int(self.platform.clock.now().timestamp() * 1_000_000) * 1000
            return await self.tracing.export(session, principal, exporter, spans, now)


def _bearer(header: str | None) -> str:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OtlpError(401, code_pb2.UNAUTHENTICATED,
                        "missing credentials: send 'Authorization: Bearer <agyn token>' (OTLP exporters: "
                        "OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <token>')")
    return token.strip()


async def _respond(send: Send, status: int, body: bytes, media: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def hot_routes(platform: Platform) -> list[HotRoute]:
    return [HotRoute(PATH, frozenset({"POST"}), TracesEndpoint(platform), limits_body=True)]


async def _wrong_method(scope: Scope, receive: Receive, send: Send) -> None:
    """Never reached by a POST (the hot route takes it); the router answers other methods with 405."""
    await TracesEndpoint(scope["app"].state.platform)(scope, receive, send)


router = ModuleRouter(tags=["tracing"])
router.routes.append(Route(PATH, _wrong_method, methods=["POST"], include_in_schema=False))
