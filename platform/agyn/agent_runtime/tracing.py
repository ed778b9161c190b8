"""The runtime's spans (`invocation.message`, `llm.call`, `execute_tool <tool>`, `summarization`, with the
OpenTelemetry GenAI attributes), exported with the SDK's OTLP/HTTP exporter when an endpoint is configured
(in a workload: the platform's `/v1/traces`), and not at all otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from opentelemetry import trace

if TYPE_CHECKING:  # the SDK loads only when spans are exported: a runtime without tracing starts sooner
    from opentelemetry.sdk.trace import TracerProvider

SERVICE_NAME = "agyn-agent-runtime"


class Tracing:
    """A tracer and the provider behind it (None: spans are not recorded)."""

    def __init__(self, provider: TracerProvider | None, *, max_events: int = 0) -> None:
        """`max_events`: how many events a span keeps (the SDK drops the oldest beyond them)."""
        self.provider = provider
        self.max_events = max_events
        self.tracer: trace.Tracer = (provider.get_tracer("agyn.agent_runtime") if provider is not None
                                     else trace.NoOpTracer())

    @classmethod
    def disabled(cls) -> Tracing:
        return cls(None)

    @classmethod
    def exporting(cls, endpoint: str | None, attributes: Mapping[str, str] | None = None,
                  headers: Mapping[str, str] | None = None) -> Tracing:
        """OTLP/HTTP to `endpoint` (the traces URL, e.g. `http://host:4318/v1/traces`); off when it is empty."""
        if not endpoint:
            return cls.disabled()
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import SpanLimits, TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        limits = SpanLimits()  # the defaults, or OTEL_SPAN_EVENT_COUNT_LIMIT and the like
        provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME, **(attributes or {})}),
                                  span_limits=limits)
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint,
                                                                        headers=dict(headers or {}))))
        return cls(provider, max_events=limits.max_events or 0)

    def flush(self, timeout_millis: int = 5000) -> None:
        """Export what has ended (blocking: call it in a thread from async code)."""
        if self.provider is not None:
            self.provider.force_flush(timeout_millis)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()
