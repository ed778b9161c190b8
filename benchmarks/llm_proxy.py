"""LLM proxy overhead: the same load generator calls a fast local upstream directly and through the proxy.

    python benchmarks/llm_proxy.py [--seconds 10] [--connections 16] [--requests 100000] [--postgres]

Starts a minimal upstream (a raw ASGI app under uvicorn, answering the Responses API from memory,
non-streaming and streaming) and `agyn serve` (SQLite in a temporary data dir, or PostgreSQL from
AGYN_BENCH_POSTGRES_URL with --postgres), declares a provider whose endpoint is the upstream and a
model on it, and a user of the organization with an API token. Then, in one run:

- non-streaming, one connection: latency p50/p99, direct and through the proxy; added = the difference;
- non-streaming, `--connections` connections: requests per second, direct and through the proxy;
- streaming, one connection: time to the first SSE event, direct and through the proxy;
- memory: the proxy process's RSS before and after `--requests` proxied calls.

Load comes from `wrk` (Debian package `wrk`), which costs far less CPU per request than a Python
client; on a shared 2-core machine the figures include its share of the CPU. The proxy runs exactly as
`agyn serve` does by default (one worker, access log at info, metering on).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import httpx
from served import AGYN, percentile, scratch_postgres

POSTGRES_URL = os.environ.get("AGYN_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")

USAGE = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 6,
         "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 18}
RESPONSE = {"id": "resp_bench", "object": "response", "created_at": 0, "model": "bench-remote", "status": "completed",
            "error": None, "incomplete_details": None, "usage": USAGE,
            "output": [{"id": "msg_bench", "type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "text": "Hi! How are you?", "annotations": []}]}]}
REQUEST = {"model": "bench", "input": [{"type": "message", "role": "user", "content": "hi there, how are you today?"}],
           "instructions": "You are a helpful assistant.", "temperature": 0.2, "max_output_tokens": 256}


def _sse_events() -> bytes:
    events = [{"type": "response.created", "response": {**RESPONSE, "status": "in_progress", "output": []}}]
    events += [{"type": "response.output_text.delta", "item_id": "msg_bench", "output_index": 0, "content_index": 0,
                "delta": word} for word in ("Hi! ", "How ", "are ", "you?")]
    events.append({"type": "response.completed", "response": RESPONSE})
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


# --- the upstream: a raw ASGI app, so that it costs as little as possible -----------------------------

_BODY = json.dumps(RESPONSE).encode()
_STREAM = _sse_events()


async def upstream_app(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if b'"stream":true' in body.replace(b" ", b""):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        first, _, rest = _STREAM.partition(b"\n\n")
        await send({"type": "http.response.body", "body": first + b"\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": rest, "more_body": False})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_BODY)).encode())]})
    await send({"type": "http.response.body", "body": _BODY})


def serve_upstream(port: int) -> None:
    import uvicorn

    uvicorn.run(upstream_app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# --- processes ----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"error: {url} exited with {process.returncode} before answering")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    sys.exit(f"error: {url} did not answer within {timeout} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Setup:
    proxy_url: str
    upstream_url: str
    token: str
    agyn_pid: int


def declare(proxy_url: str, admin_token: str, upstream_url: str) -> str:
    """A user in an organization with a provider (the upstream) and a model `bench`; returns its API token."""
    api = httpx.Client(base_url=proxy_url, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    suffix = uuid.uuid4().hex[:8]
    user = api.post("/api/v1/users", json={"oidc_subject": f"bench|{suffix}", "username": f"bench-{suffix}"})
    user.raise_for_status()
    token = api.post(f"/api/v1/users/{user.json()['id']}/api-tokens", json={"name": "bench"})
    token.raise_for_status()
    caller = token.json()["token"]
    owned = {"Authorization": f"Bearer {caller}"}
    organization = api.post("/api/v1/organizations", headers=owned, json={"name": f"bench-{suffix}"})
    organization.raise_for_status()
    provider = api.post("/api/v1/llm-providers", headers=owned, json={
        "organization_id": organization.json()["id"], "name": "bench", "endpoint": f"{upstream_url}/v1",
        "protocol": "responses", "auth_method": "bearer", "token": "sk-bench-provider-token"})
    provider.raise_for_status()
    model = api.post("/api/v1/models", headers=owned, json={
        "organization_id": organization.json()["id"], "name": "bench", "llm_provider_id": provider.json()["id"],
        "remote_name": "bench-remote"})
    model.raise_for_status()
    return str(caller)


# --- load ---------------------------------------------------------------------------------------------

_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_REQUESTS = re.compile(r"^\s+(\d+) requests in", re.M)
_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*")
_SCALE = {"us": 0.001, "ms": 1.0, "s": 1000.0}


@dataclass
class Load:
    p50: float
    p99: float
    rate: float
    requests: int


def wrk_script(directory: Path, body: dict, token: str | None) -> Path:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    path = directory / f"wrk-{uuid.uuid4().hex[:6]}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(url: str, script: Path, connections: int, seconds: float) -> Load:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", str(script), url]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    out = result.stdout
    if result.returncode != 0 or "Non-2xx" in out:
        sys.exit(f"error: wrk against {url} failed:\n{out}{result.stderr}")
    latency = {int(p): float(v) * _SCALE[unit] for p, v, unit in _LATENCY.findall(out)}
    rate, requests = _RATE.search(out), _REQUESTS.search(out)
    assert rate and requests, out
    return Load(latency[50], latency[99], float(rate.group(1)), int(requests.group(1)))


async def first_event_ms(url: str, token: str | None, rounds: int) -> list[float]:
    """Time from sending a streaming request to reading its first SSE event, one call at a time."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps({**REQUEST, "stream": True}).encode()
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = (f"POST /v1/responses HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n{auth}"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            sys.exit(f"error: streaming call to {url} answered {head.splitlines()[0]!r}")
        # chunked: the first chunk that completes an event
        seen = b""
        while b"\n\n" not in seen:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            seen += (await reader.readexactly(size + 2))[:-2]
        times.append((time.perf_counter() - started) * 1000)
        while True:  # the rest of the stream
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    writer.close()
    return times


# --- the run ------------------------------------------------------------------------------------------



def run(args: argparse.Namespace, workdir: Path, env: dict[str, str]) -> None:
    upstream_port, agyn_port = free_port(), free_port()
    upstream_url, proxy_url = f"http://127.0.0.1:{upstream_port}", f"http://127.0.0.1:{agyn_port}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upstream = subprocess.Popen([sys.executable, __file__, "--serve-upstream", str(upstream_port)])
        processes.append(upstream)
        with (workdir / "agyn.log").open("wb") as log:
            agyn = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(workdir / "data"), "--port", str(agyn_port)],
                                    env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        processes.append(agyn)
        wait_for(upstream_url, upstream)
        wait_for(f"{proxy_url}/healthz", agyn)
        admin = (workdir / "data" / "admin-token").read_text().strip()
        token = declare(proxy_url, admin, upstream_url)
        direct = wrk_script(workdir, REQUEST, None)
        proxied = wrk_script(workdir, REQUEST, token)
        for url, script in ((upstream_url, direct), (proxy_url, proxied)):  # warm pools and caches
            wrk(f"{url}/v1/responses", script, args.connections, 2)

        print(f"LLM proxy benchmark ({os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
              f"{'PostgreSQL' if args.postgres else 'SQLite'}, {args.seconds:g} s per measurement)\n")
        d1 = wrk(f"{upstream_url}/v1/responses", direct, 1, args.seconds)
        p1 = wrk(f"{proxy_url}/v1/responses", proxied, 1, args.seconds)
        print("non-streaming, 1 connection      p50 ms    p99 ms")
        print(f"  upstream directly            {d1.p50:8.3f}  {d1.p99:8.3f}")
        print(f"  through the proxy            {p1.p50:8.3f}  {p1.p99:8.3f}")
        print(f"  added by the proxy           {p1.p50 - d1.p50:8.3f}  {p1.p99 - d1.p99:8.3f}   (target p50 <= 1 ms)\n")

        dn = wrk(f"{upstream_url}/v1/responses", direct, args.connections, args.seconds)
        cpu = cpu_seconds(agyn.pid)
        pn = wrk(f"{proxy_url}/v1/responses", proxied, args.connections, args.seconds)
        per_call = (cpu_seconds(agyn.pid) - cpu) / pn.requests * 1e6
        print(f"non-streaming, {args.connections} connections    req/s    p50 ms    p99 ms")
        print(f"  upstream directly          {dn.rate:8.0f}  {dn.p50:8.3f}  {dn.p99:8.3f}")
        print(f"  through the proxy          {pn.rate:8.0f}  {pn.p50:8.3f}  {pn.p99:8.3f}   (target >= 1,500 req/s)")
        print(f"  proxy process CPU per call {per_call:8.0f} us  "
              f"(so {1e6 / per_call:,.0f} req/s on a core of its own)\n")

        asyncio.run(first_event_ms(upstream_url, None, 50))
        asyncio.run(first_event_ms(proxy_url, token, 50))
        ds = asyncio.run(first_event_ms(upstream_url, None, args.stream_rounds))
        ps = asyncio.run(first_event_ms(proxy_url, token, args.stream_rounds))
        print(f"streaming, 1 connection, time to first event ({args.stream_rounds} calls)   p50 ms    p99 ms")
        print(f"  upstream directly                                   {statistics.median(ds):8.3f}  "
              f"{percentile(ds, 0.99):8.3f}")
        print(f"  through the proxy                                   {statistics.median(ps):8.3f}  "
              f"{percentile(ps, 0.99):8.3f}")
        print(f"  added by the proxy                                  "
              f"{statistics.median(ps) - statistics.median(ds):8.3f}  "
              f"{percentile(ps, 0.99) - percentile(ds, 0.99):8.3f}\n")

        done = p1.requests + pn.requests + 2 * args.stream_rounds + 100
        readings = [rss_mib(agyn.pid)]
        calls, rate, started = 0, pn.rate, time.perf_counter()
        for quarter in range(1, 5):  # a reading after each quarter shows growth apart from warm-up
            while calls < args.requests * quarter / 4:
                seconds = max(1.0, (args.requests * quarter / 4 - calls) / rate * 1.05)
                load = wrk(f"{proxy_url}/v1/responses", proxied, args.connections, seconds)
                calls, rate = calls + load.requests, load.rate
            readings.append(rss_mib(agyn.pid))
        print(f"memory of the proxy process (RSS, MiB) over {calls:,} more calls ({done + calls:,} in all, "
              f"{calls / (time.perf_counter() - started):,.0f} req/s)")
        print("  " + " -> ".join(f"{value:.1f}" for value in readings) +
              f"   change {readings[-1] - readings[0]:+.1f} MiB, over the last half {readings[-1] - readings[2]:+.1f}")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk measurement")
    parser.add_argument("--connections", type=int, default=16, help="connections of the throughput measurement")
    parser.add_argument("--requests", type=int, default=100_000, help="proxied calls of the memory measurement")
    parser.add_argument("--stream-rounds", type=int, default=500, help="streaming calls per side")
    parser.add_argument("--postgres", action="store_true",
                        help="PostgreSQL (a new database on AGYN_BENCH_POSTGRES_URL's server), not SQLite")
    parser.add_argument("--keep", action="store_true", help="keep the working directory (the proxy's log)")
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return
    if shutil.which("wrk") is None:
        sys.exit("error: wrk is not installed; install it with `apt-get install wrk`")
    workdir = Path(tempfile.mkdtemp(prefix="agyn-llm-proxy-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
    env.update(PYTHONUNBUFFERED="1")
    try:
        with scratch_postgres(POSTGRES_URL) if args.postgres else nullcontext(None) as database_url:
            if database_url is not None:  # a database of its own, brought to the schema
                env["AGYN_DATABASE_URL"] = database_url
                subprocess.run([str(AGYN), "db", "upgrade", "--data-dir", str(workdir / "data")], env=env,
                               check=True, capture_output=True)
            run(args, workdir, env)
    finally:
        if args.keep:
            print(f"\nworking directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
