"""OTLP/HTTP for traces: request bodies (protobuf or JSON, maybe gzipped) into plain span records, and the
answers the OTLP specification asks for (`ExportTraceServiceResponse`, or a `google.rpc.Status` on
failure), in the request's own encoding.

OTLP/JSON is the protobuf JSON mapping with two exceptions the specification makes: trace and span ids
are hex strings (not base64), and enums are integers. Unknown fields are ignored, as receivers must.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MEDIA_TYPES = (PROTOBUF, JSON)


class OtlpError(Exception):
    """An export refused whole: HTTP status, `google.rpc.Code` and a message for the producer."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def bad_request(message: str) -> OtlpError:
    return OtlpError(400, code_pb2.INVALID_ARGUMENT, message)


def too_large(message: str) -> OtlpError:
    return OtlpError(413, code_pb2.RESOURCE_EXHAUSTED, message)


def media_type(content_type: str | None) -> str:
    """The body's encoding, from `Content-Type`; 415 for anything but OTLP's two."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise OtlpError(415, code_pb2.INVALID_ARGUMENT,
                        f"unsupported content type {media or '(none)'!r}: send {PROTOBUF} or {JSON}")
    return media


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body as encoded, inflating gzip without ever holding more than `limit` bytes (a small bomb
    cannot become a large allocation)."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise OtlpError(415, code_pb2.INVALID_ARGUMENT, f"unsupported content encoding {encoding!r}: send gzip "
                                                        "or nothing")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as error:
        raise bad_request(f"the body is not valid gzip: {error}") from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise too_large(f"the decompressed export exceeds the limit of {limit} bytes; send smaller batches")
    if not inflater.eof:
        raise bad_request("the gzip body is truncated")
    return plain


def parse(body: bytes, media: str) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    if media == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            raise bad_request(f"the body is not an ExportTraceServiceRequest protobuf: {error}") from None
        return request
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise bad_request(f"the body is not JSON: {error}") from None
    if not isinstance(document, dict):
        raise bad_request("the body must be a JSON object with resourceSpans")
    try:
        json_format.ParseDict(_ids_as_base64(document), request, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError) as error:
        raise bad_request(f"the body is not an OTLP/JSON ExportTraceServiceRequest: {error}") from None
    return request


_ID_KEYS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")


def _ids_as_base64(document: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON's hex ids, rewritten in place to the base64 the protobuf JSON mapping reads."""
    for resource_spans in _objects(document, "resourceSpans", "resource_spans"):
        for scope_spans in _objects(resource_spans, "scopeSpans", "scope_spans"):
            for span in _objects(scope_spans, "spans"):
                _rewrite_ids(span)
                for link in _objects(span, "links"):
                    _rewrite_ids(link)
    return document


def _objects(parent: Any, *keys: str) -> Iterator[dict[str, Any]]:
    if not isinstance(parent, dict):
        return
    for key in keys:
        items = parent.get(key)
        if isinstance(items, list):
            yield from (item for item in items if isinstance(item, dict))


def _rewrite_ids(holder: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        value = holder.get(key)
        if isinstance(value, str) and value:
            try:
                holder[key] = base64.b64encode(bytes.fromhex(value)).decode()
            except ValueError:
                raise bad_request(f"{key} {value[:40]!r} is not hex") from None


# --- answers --------------------------------------------------------------------------------------


def success(media: str, rejected: int = 0, reason: str = "") -> bytes:
    response = ExportTraceServiceResponse()
    if rejected or reason:
        response.partial_success.CopyFrom(ExportTracePartialSuccess(rejected_spans=rejected, error_message=reason))
    if media == PROTOBUF:
        return bytes(response.SerializeToString())
    document: str = json_format.MessageToJson(response, indent=None)
    return document.encode()


def failure(media: str, error: OtlpError) -> bytes:
    status = status_pb2.Status(code=error.code, message=error.message)
    if media == PROTOBUF:
        return bytes(status.SerializeToString())
    return json.dumps({"code": error.code, "message": error.message}).encode()


# --- values ----------------------------------------------------------------------------------------


def value_of(value: AnyValue) -> Any:
    """An attribute value as plain JSON: kvlists become objects, bytes base64 (as OTLP/JSON writes them)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [value_of(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return attributes_of(value.kvlist_value.values)
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return getattr(value, kind)


_SCALARS = frozenset({"string_value", "int_value", "bool_value", "double_value"})


def attributes_of(pairs: Iterable[KeyValue]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:  # the hot loop of ingestion: scalars inline
        value = pair.value
        kind = value.WhichOneof("value")
        found[pair.key] = getattr(value, kind) if kind in _SCALARS else value_of(value)
    return found


def hex_id(raw: bytes, size: int) -> str | None:
    """An id as lowercase hex, or None when it is absent; `ValueError` when it has the wrong length or is
    all zeros (invalid per the specification)."""
    if not raw:
        return None
    if len(raw) != size or not any(raw):
        raise ValueError(f"must be {size} bytes and not all zeros")
    return binascii.hexlify(raw).decode()


Flat = list[tuple[Any, dict[str, Any], dict[str, Any]]]
"""An export's spans, each with its resource and scope: (span message, resource, scope)."""


def flatten(request: ExportTraceServiceRequest) -> Flat:
    spans: Flat = []
    for resource_spans in request.resource_spans:
        resource: dict[str, Any] = {"attributes": attributes_of(resource_spans.resource.attributes)}
        if resource_spans.resource.dropped_attributes_count:
            resource["dropped_attributes_count"] = resource_spans.resource.dropped_attributes_count
        if resource_spans.schema_url:
            resource["schema_url"] = resource_spans.schema_url
        for scope_spans in resource_spans.scope_spans:
            instrumentation = scope_spans.scope
            scope: dict[str, Any] = {"name": instrumentation.name, "version": instrumentation.version}
            if instrumentation.attributes:
                scope["attributes"] = attributes_of(instrumentation.attributes)
            if scope_spans.schema_url:
                scope["schema_url"] = scope_spans.schema_url
            spans.extend((span, resource, scope) for span in scope_spans.spans)
    return spans
