"""Control API throughput: authorized reads against one `agyn serve` worker, on SQLite and PostgreSQL.

    python benchmarks/control_api.py [--seconds 10] [--connections 16] [--sqlite-only | --postgres-only]

For each database it starts `agyn serve` as it runs by default (one worker, access log at info) in a
temporary data dir — PostgreSQL: a new database on AGYN_BENCH_POSTGRES_URL's server, brought to the
schema with `agyn db upgrade` — and declares, through the API, a user with an API token who owns an
organization with 100 agents (not a cluster admin, so every read goes through the authorization
model). Then, in one run, `wrk` (Debian package `wrk`, installed with apt-get when missing) loads:

- `/healthz`: the framework's floor on this machine at this moment;
- `GET /api/v1/agents/{id}` as that user: requests per second, latency p50/p99, ratio to /healthz;
- `GET /api/v1/agents?page_size=100` as that user: requests per second (100 agents a page).

The machine's cores are shared with wrk and whatever else runs: the ratio to /healthz from the same
run is the figure to compare across machines and runs (issue target: GET >= 0.30 of /healthz and
>= 1,500 req/s on a quiet 2-core machine; a list of 100 >= 300 req/s).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from served import AGYN, cpu_ms, free_port, scratch_postgres

POSTGRES_URL = os.environ.get("AGYN_BENCH_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres")
AGENTS = 100


@dataclass
class Load:
    rate: float
    p50: float
    p99: float
    cpu_ms: float
    """the server process's CPU per request (steadier than the rate on a shared machine)"""


def ensure_wrk() -> None:
    if shutil.which("wrk") is not None:
        return
    print("wrk is missing: installing the Debian package (apt-get install wrk)...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False, **quiet).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, **quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, check=False, **quiet)
    if shutil.which("wrk") is None:
        sys.exit("error: wrk is not installed and apt-get could not install it; run `apt-get install wrk` as root")


_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_REQUESTS = re.compile(r"^\s+(\d+) requests in", re.M)
_SCALE = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, token: str | None, connections: int, seconds: float, server: int) -> Load:
    cpu_before = cpu_ms(server)
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    result = subprocess.run([*command, url], capture_output=True, text=True, check=False)
    out = result.stdout
    if result.returncode != 0 or "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"error: wrk against {url} failed:\n{out}{result.stderr}")
    latency = {int(p): float(v) * _SCALE[unit] for p, v, unit in _LATENCY.findall(out)}
    rate, requests = _RATE.search(out), _REQUESTS.search(out)
    assert rate and requests, out
    return Load(float(rate.group(1)), latency[50], latency[99], (cpu_ms(server) - cpu_before) / int(requests.group(1)))


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"error: agyn serve exited with {process.returncode} before answering")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    sys.exit(f"error: {url} did not answer within {timeout} s")


def declare(base: str, admin_token: str) -> tuple[str, str]:
    """A user owning an organization with `AGENTS` agents; returns (their API token, one agent's id)."""
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin_token}"}, timeout=30)
    suffix = uuid.uuid4().hex[:8]
    user = admin.post("/api/v1/users", json={"oidc_subject": f"bench|{suffix}", "username": f"bench-{suffix}"})
    user.raise_for_status()
    minted = admin.post(f"/api/v1/users/{user.json()['id']}/api-tokens", json={"name": "bench"})
    minted.raise_for_status()
    token = str(minted.json()["token"])
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    organization = api.post("/api/v1/organizations", json={"name": f"bench-{suffix}"})
    organization.raise_for_status()
    org = organization.json()["id"]
    provider = api.post("/api/v1/llm-providers", json={
        "organization_id": org, "endpoint": "https://llm.example", "auth_method": "bearer", "token": "t"})
    provider.raise_for_status()
    model = api.post("/api/v1/models", json={
        "organization_id": org, "name": "m", "llm_provider_id": provider.json()["id"], "remote_name": "m"})
    model.raise_for_status()
    agent_ids = []
    for number in range(AGENTS):
        agent = api.post("/api/v1/agents", json={
            "organization_id": org, "name": f"bench-{number}", "role": "assistant", "model": model.json()["id"],
            "availability": "internal", "configuration": {"system_prompt": "You are a benchmark."}})
        agent.raise_for_status()
        agent_ids.append(str(agent.json()["id"]))
    return token, agent_ids[len(agent_ids) // 2]


def measure(database: str, args: argparse.Namespace, workdir: Path) -> dict[str, Load]:
    if database != "postgresql":
        return measure_on(None, args, workdir / database / "data")
    with scratch_postgres(POSTGRES_URL) as database_url:
        return measure_on(database_url, args, workdir / database / "data")


def measure_on(database_url: str | None, args: argparse.Namespace, data_dir: Path) -> dict[str, Load]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
    if database_url is not None:
        env["AGYN_DATABASE_URL"] = database_url
        subprocess.run([str(AGYN), "db", "upgrade", "--data-dir", str(data_dir)], env=env, check=True,
                       capture_output=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir.parent / "agyn.log").open("wb") as log:
        server = subprocess.Popen([str(AGYN), "serve", "--data-dir", str(data_dir), "--port", str(port)],
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"{base}/healthz", server)
        token, agent_id = declare(base, (data_dir / "admin-token").read_text().strip())
        one, page = f"{base}/api/v1/agents/{agent_id}", f"{base}/api/v1/agents?page_size={AGENTS}"
        listed = httpx.get(page, headers={"Authorization": f"Bearer {token}"}).json()["items"]
        assert len(listed) == AGENTS, f"the list page holds {len(listed)} agents, not {AGENTS}"
        for url, caller in ((f"{base}/healthz", None), (one, token), (page, token)):
            wrk(url, caller, args.connections, 2, server.pid)  # warm up
        return {"healthz": wrk(f"{base}/healthz", None, args.connections, args.seconds, server.pid),
                "get": wrk(one, token, args.connections, args.seconds, server.pid),
                "list": wrk(page, token, args.connections, args.seconds, server.pid)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each wrk measurement")
    parser.add_argument("--connections", type=int, default=16, help="connections wrk keeps open")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true", help="measure SQLite only")
    only.add_argument("--postgres-only", action="store_true", help="measure PostgreSQL only")
    args = parser.parse_args()
    ensure_wrk()
    databases = ["sqlite"] if args.sqlite_only else ["postgresql"] if args.postgres_only else ["sqlite", "postgresql"]
    workdir = Path(tempfile.mkdtemp(prefix="agyn-control-api-bench-"))
    try:
        results = {database: measure(database, args, workdir) for database in databases}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"one agyn serve worker, wrk {args.connections} connections, {args.seconds:.0f} s each")
    print(f"{'database':<11}{'/healthz':>10}{'GET one':>10}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}"
          f"{'list 100':>10}{'ratio':>7}")
    for database, loads in results.items():
        health, get, page = loads["healthz"], loads["get"], loads["list"]
        print(f"{database:<11}{health.rate:>10,.0f}{get.rate:>10,.0f}{get.p50:>8.2f}{get.p99:>8.2f}"
              f"{get.rate / health.rate:>7.2f}{page.rate:>10,.0f}{page.rate / health.rate:>7.2f}")
    print("(req/s; ratio = the same run's /healthz; targets: GET >= 1,500 and >= 0.30, list of 100 >= 300)")
    print("the server process's CPU per request, ms (steadier than req/s on a shared machine; PostgreSQL's own"
          " processes not counted):")
    for database, loads in results.items():
        print(f"{database:<11}" + "  ".join(f"{name} {load.cpu_ms:.3f}" for name, load in loads.items()))


if __name__ == "__main__":
    main()
