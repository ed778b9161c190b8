"""Spans leave the runtime over OTLP/HTTP (the SDK's exporter) to whatever endpoint is configured; here a
small local receiver decodes them with the OTLP protobufs."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agyn.agent_runtime.daemon import RuntimeEnv
from agyn.agent_runtime.history import HistoryStore
from agyn.agent_runtime.loop import AgentConfig, AgentLoop, Summarization
from agyn.agent_runtime.tools import ToolBox
from agyn.agent_runtime.tracing import Tracing
from tests.agent_runtime.conftest import HttpMcp, mcp_env


class Receiver:
    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.resources: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest.FromString(body)
                for resource_spans in request.resource_spans:
                    receiver.resources.append({a.key: a.value.string_value
                                               for a in resource_spans.resource.attributes})
                    for scope in resource_spans.scope_spans:
                        receiver.spans.extend(scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"

    def attributes(self, span: Any) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for attribute in span.attributes:
            value = attribute.value
            values[attribute.key] = getattr(value, value.WhichOneof("value"))
        return values


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()


async def test_a_turn_exports_its_spans(testllm_url: str, tmp_path: Path, weather_mcp: HttpMcp,
                                        receiver: Receiver) -> None:
    tracing = Tracing.exporting(receiver.url, {"agyn.thread.id": "thread-1"})
    async with ToolBox([weather_mcp.server], env=mcp_env()) as tools:
        loop = AgentLoop(openai.AsyncOpenAI(base_url=f"{testllm_url}/agn/v1", api_key="k"), tools,
                         HistoryStore(tmp_path), tracing)
        result = await loop.run_turn("c", ["weather in Paris?"], AgentConfig(model="simple-tool-call"))
        assert result.text
        await loop.run_turn("c2", ["hi"], AgentConfig(model="simple-hello"))
        # a budget of one token summarizes everything before "thanks" (the turn's own answer does not matter)
        budget = Summarization(max_tokens=1, keep_tokens=1, model="summarize-tool-pair-history")
        await loop.run_turn("c", ["thanks"], AgentConfig(model="summarize-tool-pair-turn2", summarization=budget))
    tracing.shutdown()
    names = [span.name for span in receiver.spans]
    assert names.count("invocation.message") == 3
    assert names.count("llm.call") >= 3 and "execute_tool get_weather" in names and "summarization" in names
    tool = next(receiver.attributes(s) for s in receiver.spans if s.name == "execute_tool get_weather")
    assert tool["gen_ai.operation.name"] == "execute_tool" and tool["gen_ai.tool.name"] == "get_weather"
    assert tool["gen_ai.tool.call.arguments"] == '{"location": "Paris"}'
    assert "18°C" in tool["gen_ai.tool.call.result"]
    llm = [receiver.attributes(s) for s in receiver.spans if s.name == "llm.call"]
    assert llm[0]["gen_ai.request.model"] == "simple-tool-call" and llm[0]["gen_ai.usage.input_tokens"] > 0
    assert llm[0]["gen_ai.operation.name"] == "chat" and llm[0]["gen_ai.provider.name"] == "openai"
    events = [s for s in receiver.spans if s.name == "llm.call"][0].events
    assert [e.name for e in events] == ["agyn.llm.context_item"]
    root = {s.span_id for s in receiver.spans if s.name == "invocation.message"}
    assert all(s.parent_span_id in root for s in receiver.spans if s.name in ("llm.call", "execute_tool get_weather"))
    assert receiver.resources[0]["service.name"] == "agyn-agent-runtime"
    assert receiver.resources[0]["agyn.thread.id"] == "thread-1"


def test_tracing_is_off_without_an_endpoint() -> None:
    tracing = Tracing.exporting(None)
    assert tracing.provider is None
    with tracing.tracer.start_as_current_span("invocation.message") as span:
        assert not span.is_recording()


def test_a_workload_exports_to_the_platform_with_its_token_by_default() -> None:
    base = {"AGYN_PLATFORM_URL": "http://platform:8080/", "AGYN_WORKLOAD_TOKEN": "agyn_w", "AGYN_WORKLOAD_ID": "w",
            "AGYN_THREAD_ID": "t", "AGYN_AGENT_ID": "a", "AGYN_STATE_DIR": "/tmp/state"}
    default = RuntimeEnv.from_environ(base)
    assert default.traces_endpoint == "http://platform:8080/v1/traces"
    assert default.traces_headers == {"Authorization": "Bearer agyn_w"}
    elsewhere = RuntimeEnv.from_environ({**base, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})
    assert elsewhere.traces_endpoint == "http://collector:4318/v1/traces"
    assert elsewhere.traces_headers == {}  # the workload token never leaves for a third party
    assert RuntimeEnv.from_environ({**base, "OTEL_SDK_DISABLED": "true"}).traces_endpoint is None


async def test_an_llm_call_records_the_input_items_its_span_keeps(
        testllm_url: str, tmp_path: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A span keeps its last OTEL_SPAN_EVENT_COUNT_LIMIT events: the runtime makes just those (the newest
    items) and says how many items the call had."""
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "2")
    tracing = Tracing.exporting(receiver.url)
    async with ToolBox([], env=mcp_env()) as tools:
        loop = AgentLoop(openai.AsyncOpenAI(base_url=f"{testllm_url}/agn/v1", api_key="k"), tools,
                         HistoryStore(tmp_path), tracing)
        await loop.run_turn("c", ["hi"], AgentConfig(model="simple-state"))
        assert (await loop.run_turn("c", ["fine"], AgentConfig(model="simple-state"))).text == "How can I help you?"
    tracing.shutdown()
    second = [s for s in receiver.spans if s.name == "llm.call"][1]
    assert receiver.attributes(second)["agyn.llm.context.items"] == 3
    assert second.dropped_events_count == 0
    recorded = [{a.key: getattr(a.value, a.value.WhichOneof("value")) for a in event.attributes}
                for event in second.events]
    assert [(e["agyn.context.role"], e["agyn.context.is_new"]) for e in recorded] == [("assistant", False),
                                                                                       ("user", True)]
    assert "fine" in recorded[1]["agyn.context.text"]
