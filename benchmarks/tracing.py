"""Tracing: OTLP ingestion throughput and the run-timeline query, on SQLite and PostgreSQL.

    python benchmarks/tracing.py [--postgres postgresql://root@127.0.0.1:5432/postgres] [--sqlite-only]
                                 [--batches 200] [--concurrency 4] [--runs 1000]

For each backend it starts `agyn serve` (a scratch database on the PostgreSQL server; a fresh data dir
for SQLite), creates an organization, a conversation and a message through the API, then prints:

  - ingest: spans per second of `POST /v1/traces` with protobuf batches of 512 spans (the SDK's batch
    size), CONCURRENCY exports in flight; each span carries a dozen attributes and an event, about what
    the agent runtime sends. Baseline in the same run: `GET /healthz` requests per second with the same
    concurrency (the floor of one HTTP exchange), so the ratio says how much an export costs beyond it;
  - timeline: a conversation with RUNS runs (a run span, two LLM calls and a tool call each, loaded
    through the same endpoint), then p50/p90 of `GET /api/v1/conversations/{id}/runs` for the first page
    (20 runs), a page of 100, and the time to walk all RUNS runs.

Target: >= 10,000 spans/s on PostgreSQL. The load generator shares the machine's cores with the server and
the database: figures are lower bounds, and noisy when other work runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
import uuid
from contextlib import nullcontext
from pathlib import Path

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span
from served import ServedPlatform, scratch_postgres

BATCH = 512
SECOND = 1_000_000_000


def attribute(key: str, value: str | int) -> KeyValue:
    typed = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=typed)


def export(spans: list[Span]) -> bytes:
    resource = Resource(attributes=[attribute("service.name", "agyn-agent-runtime")])
    return ExportTraceServiceRequest(resource_spans=[ResourceSpans(
        resource=resource, scope_spans=[ScopeSpans(spans=spans)])]).SerializeToString()


def busy_span(rng: random.Random, trace_id: bytes, start: int) -> Span:
    span = Span(trace_id=trace_id, span_id=rng.randbytes(8), parent_span_id=rng.randbytes(8), name="llm.call",
                start_time_unix_nano=start, end_time_unix_nano=start + 50_000_000, kind=Span.SPAN_KIND_CLIENT,
                attributes=[attribute("gen_ai.operation.name", "chat"), attribute("gen_ai.provider.name", "openai"),
                            attribute("gen_ai.request.model", "gpt-5"), attribute("gen_ai.usage.input_tokens", 1200),
                            attribute("gen_ai.usage.output_tokens", 80),
                            attribute("agyn.llm.response_text", "It is 18°C and partly cloudy in Paris." * 4),
                            *(attribute(f"bench.attribute.{i}", f"value {i}") for i in range(6))])
    span.events.add(name="agyn.llm.context_item", time_unix_nano=start,
                    attributes=[attribute("agyn.context.role", "user"),
                                attribute("agyn.context.text", "what is the weather in Paris?")])
    return span


def run_spans(rng: random.Random, start: int, message_id: str) -> list[Span]:
    trace_id, root = rng.randbytes(16), rng.randbytes(8)
    spans = [Span(trace_id=trace_id, span_id=root, name="invocation.message", start_time_unix_nano=start,
                  end_time_unix_nano=start + 3 * SECOND,
                  attributes=[attribute("agyn.thread.message.id", message_id),
                              attribute("agyn.response.text", "18°C and partly cloudy in Paris.")])]
    spans[0].events.add(name="agyn.message.received", time_unix_nano=start,
                        attributes=[attribute("agyn.thread.message.id", message_id),
                                    attribute("agyn.message.text", "what is the weather in Paris?")])
    for offset, name in ((1, "llm.call"), (2, "execute_tool get_weather"), (3, "llm.call")):
        step = busy_span(rng, trace_id, start + offset * SECOND // 4)
        step.name, step.parent_span_id = name, root
        if name.startswith("execute_tool"):
            del step.attributes[:]
            step.attributes.extend([attribute("gen_ai.operation.name", "execute_tool"),
                                    attribute("gen_ai.tool.name", "get_weather"),
                                    attribute("gen_ai.tool.call.arguments", '{"location": "Paris"}'),
                                    attribute("gen_ai.tool.call.result", '{"temperature": "18°C"}')])
        spans.append(step)
    return spans


async def rate(base: str, concurrency: int, count: int, request: dict[str, object]) -> float:
    """Requests per second for `count` requests, `concurrency` at a time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
        queue = list(range(count))

        async def worker() -> None:
            while queue:
                queue.pop()
                response = await client.request(**request)  # type: ignore[arg-type]
                if response.status_code != 200:
                    raise SystemExit(f"{request['url']} answered {response.status_code}: {response.content[:300]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return count / (time.perf_counter() - started)


async def ingest(base: str, headers: dict[str, str], batches: int, concurrency: int, seed: int,
                 per_trace: int) -> float:
    rng = random.Random(seed)
    now = time.time_ns()
    traces = BATCH // per_trace
    bodies = [export([busy_span(rng, trace_id, now) for trace_id in (rng.randbytes(16) for _ in range(traces))
                      for _ in range(per_trace)]) for _ in range(batches)]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60, headers=headers) as client:
        await client.post("/v1/traces", content=bodies[0])  # warm: connections, token cache

        async def worker() -> None:
            while bodies:
                response = await client.post("/v1/traces", content=bodies.pop())
                if response.status_code != 200:
                    raise SystemExit(f"/v1/traces answered {response.status_code}: {response.content[:300]!r}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return (batches - 1) * (BATCH // per_trace) * per_trace / (time.perf_counter() - started)


def timed(client: httpx.Client, path: str, params: dict[str, str | int], repeat: int) -> list[float]:
    measured = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params=params)
        measured.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}: {response.text[:300]}")
    return sorted(measured)


def walk(client: httpx.Client, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    seen, token = 0, None
    while True:
        page = client.get(path, params={"page_size": 100, **({"page_token": token} if token else {})}).json()
        seen += len(page["items"])
        token = page.get("next_page_token")
        if not token:
            return seen, (time.perf_counter() - started) * 1000


def measure(label: str, base: str, token: str, args: argparse.Namespace) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        org = client.post("/api/v1/organizations", json={"name": f"bench-{uuid.uuid4().hex[:6]}"}).json()["id"]
        thread = client.post("/api/v1/threads", json={"organization_id": org, "participants": []}).json()["id"]
        message = client.post(f"/api/v1/threads/{thread}/messages", json={"body": "weather?"}).json()["id"]
    headers = {**auth, "Content-Type": "application/x-protobuf", "x-agyn-organization-id": org}
    floor = asyncio.run(rate(base, args.concurrency, 2000, {"method": "GET", "url": "/healthz"}))
    spans_per_second = asyncio.run(ingest(base, headers, args.batches, args.concurrency, args.seed,
                                          args.spans_per_trace))
    exports_per_second = spans_per_second / BATCH
    print(f"[{label}] ingest: {spans_per_second:,.0f} spans/s ({exports_per_second:,.1f} exports of {BATCH}/s, "
          f"{args.concurrency} in flight); GET /healthz floor {floor:,.0f} req/s → one export costs "
          f"{floor / exports_per_second:,.0f}× a bare request")

    rng = random.Random(args.seed)
    start = time.time_ns() - args.runs * 10 * SECOND
    runs = [span for number in range(args.runs) for span in run_spans(rng, start + number * 10 * SECOND, message)]
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for offset in range(0, len(runs), BATCH):
            client.post("/v1/traces", content=export(runs[offset:offset + BATCH])).raise_for_status()
    path = f"/api/v1/conversations/{thread}/runs"
    with httpx.Client(base_url=base, headers=auth, timeout=60) as client:
        first = timed(client, path, {}, 50)
        hundred = timed(client, path, {"page_size": 100}, 20)
        seen, all_ms = walk(client, path)
    assert seen == args.runs, (seen, args.runs)
    print(f"[{label}] timeline of {args.runs} runs ({len(runs)} spans): first page (20 runs) p50 "
          f"{statistics.median(first):.1f} ms p90 {first[int(len(first) * 0.9)]:.1f} ms; page of 100 p50 "
          f"{statistics.median(hundred):.1f} ms; all {seen} runs in {all_ms:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("AGYN_TEST_POSTGRES_URL",
                                                             "postgresql://root@127.0.0.1:5432/postgres"))
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--batches", type=int, default=200, help="exports of 512 spans timed per backend")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--spans-per-trace", type=int, default=8,
                        help="spans of one trace in a batch (a run is several; each trace is one event)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    backends: list[tuple[str, str | None]] = [("sqlite", None)]
    if not args.sqlite_only:
        backends.append(("postgresql", args.postgres))
    for label, server in backends:
        with tempfile.TemporaryDirectory() as scratch, \
                scratch_postgres(server) if server else nullcontext(None) as database_url:
            platform = ServedPlatform(Path(scratch), database_url, AGYN_ORCHESTRATOR__ENABLED="false")
            try:
                measure(label, platform.url, platform.admin, args)
            finally:
                platform.stop()


if __name__ == "__main__":
    main()
