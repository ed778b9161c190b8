"""The official OpenTelemetry SDK's OTLP/HTTP exporters (protobuf and JSON) push to a served platform with
an agyn token: what they send is stored, and a span exported in progress completes when exported again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from opentelemetry.exporter.otlp.json.http.trace_exporter import OTLPSpanExporter as JsonExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as ProtobufExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.notifications.support import Live, live_server
from tests.threads.support import make_team


@pytest_asyncio.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[Live]:
    async with live_server(database_url, tmp_path / "data") as found:
        yield found


def exporter(kind: str, url: str, token: str, organization_id: str) -> SpanExporter:
    headers = {"Authorization": f"Bearer {token}", "x-agyn-organization-id": organization_id}
    exporters: dict[str, Any] = {"protobuf": ProtobufExporter, "json": JsonExporter}
    built: SpanExporter = exporters[kind](endpoint=f"{url}/v1/traces", headers=headers)
    return built


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
async def test_the_sdk_exporter_pushes_spans_and_an_open_span_completes(live: Live, encoding: str) -> None:
    team = await make_team(live.api)
    push = exporter(encoding, live.url, team.bob.token, team.org.id)
    finished = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-test"}))
    provider.add_span_processor(SimpleSpanProcessor(finished))
    tracer = provider.get_tracer("tests.tracing")

    with tracer.start_as_current_span("outer", attributes={"gen_ai.operation.name": "chat"}) as outer:
        with tracer.start_as_current_span("inner") as inner:
            inner.set_attribute("answer", 42)
        context = outer.get_span_context()
        # what an exporter of running spans sends: the span as it is, without an end
        snapshot = ReadableSpan(name="outer", context=context, resource=provider.resource,
                                attributes={"gen_ai.operation.name": "chat"}, start_time=outer.start_time,  # type: ignore[attr-defined]
                                instrumentation_scope=inner.instrumentation_scope)  # type: ignore[attr-defined]
        assert await asyncio.to_thread(push.export, [snapshot, *finished.get_finished_spans()]) == \
            SpanExportResult.SUCCESS
        trace_id = format(context.trace_id, "032x")
        tree = (await live.api.client.get(f"/api/v1/traces/{trace_id}", headers=team.bob.headers)).json()
        [root] = tree["roots"]
        assert root["name"] == "outer" and root["in_progress"] is True
        assert [(c["name"], c["attributes"], c["in_progress"]) for c in root["children"]] == [
            ("inner", {"answer": 42}, False)]
        finished.clear()
    assert await asyncio.to_thread(push.export, finished.get_finished_spans()) == SpanExportResult.SUCCESS
    [root] = (await live.api.client.get(f"/api/v1/traces/{trace_id}", headers=team.bob.headers)).json()["roots"]
    assert root["in_progress"] is False and root["end_time"] is not None
    assert root["resource"]["attributes"]["service.name"] == "sdk-test"
    assert root["scope"]["name"] == "tests.tracing"
    push.shutdown()
