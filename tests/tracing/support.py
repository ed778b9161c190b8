"""What the tracing tests share: OTLP exports built with the official protobufs, and posting them."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status as OtlpStatus

from tests.conftest import Api

PROTOBUF = {"Content-Type": "application/x-protobuf"}


def new_trace_id() -> bytes:
    return os.urandom(16)


def new_span_id() -> bytes:
    return os.urandom(8)


def value(item: Any) -> AnyValue:
    if isinstance(item, bool):
        return AnyValue(bool_value=item)
    if isinstance(item, int):
        return AnyValue(int_value=item)
    if isinstance(item, float):
        return AnyValue(double_value=item)
    if isinstance(item, list):
        return AnyValue(array_value=ArrayValue(values=[value(i) for i in item]))
    return AnyValue(string_value=str(item))


def attributes(values: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=key, value=value(item)) for key, item in values.items()]


def span(name: str, trace_id: bytes, span_id: bytes | None = None, *, parent: bytes = b"", start: int | None = None,
         end: int | None = None, attrs: dict[str, Any] | None = None,
         events: list[tuple[str, int, dict[str, Any]]] = (), error: str | None = None) -> OtlpSpan:  # type: ignore[assignment]
    start = start if start is not None else time.time_ns()
    found = OtlpSpan(trace_id=trace_id, span_id=span_id or new_span_id(), parent_span_id=parent, name=name,
                     kind=OtlpSpan.SPAN_KIND_INTERNAL, start_time_unix_nano=start,
                     end_time_unix_nano=end if end is not None else start + 1_000_000,
                     attributes=attributes(attrs or {}))
    for event_name, at, event_attributes in events:
        found.events.add(name=event_name, time_unix_nano=at, attributes=attributes(event_attributes))
    if error is not None:
        found.status.CopyFrom(OtlpStatus(code=OtlpStatus.STATUS_CODE_ERROR, message=error))
    return found


def export(*spans: OtlpSpan, resource: dict[str, Any] | None = None) -> bytes:
    request = ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=Resource(attributes=attributes(resource or {"service.name": "test"})),
        scope_spans=[ScopeSpans(spans=list(spans))])])
    return request.SerializeToString()


async def post(api: Api, body: bytes, token: str, organization_id: str | None = None,
               headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {**PROTOBUF, **api.auth(token), **(headers or {})}
    if organization_id is not None:
        sent["x-agyn-organization-id"] = organization_id
    return await api.client.post("/v1/traces", content=body, headers=sent)
