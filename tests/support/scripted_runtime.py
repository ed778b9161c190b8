"""A small agent runtime for the execution plane's tests: it keeps the runtime's side of the contract
(the environment, touch, unacked messages, ack, SIGTERM) and answers each message with a fixed reply.

Environment it reads: the AGYN_* contract; SCRIPTED_EXIT=<code> makes it exit at once with that code
(a runtime that fails). A message with "slow" in it takes three seconds. it counts its runs in each volume dir (`runs`) and in AGYN_STATE_DIR, and
records its pid in AGYN_STATE_DIR/pids (for the tests that look for leftover processes).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import httpx

stopping = False


def on_term(signum: int, frame: object) -> None:
    global stopping
    stopping = True


def count_run(directory: Path) -> int:
    path = directory / "runs"
    runs = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(runs))
    return runs


def main() -> int:
    signal.signal(signal.SIGTERM, on_term)
    if os.environ.get("SCRIPTED_EXIT"):
        print("failing on purpose", flush=True)
        return int(os.environ["SCRIPTED_EXIT"])
    base = os.environ["AGYN_PLATFORM_URL"]
    workload_id, thread_id = os.environ["AGYN_WORKLOAD_ID"], os.environ["AGYN_THREAD_ID"]
    state = Path(os.environ["AGYN_STATE_DIR"])
    with open(state / "pids", "a") as pids:
        pids.write(f"{os.getpid()}\n")
    runs = count_run(state)
    volumes = json.loads(os.environ.get("AGYN_VOLUMES", "{}"))
    volume_runs = [count_run(Path(path)) for path in volumes.values()]
    headers = {"Authorization": f"Bearer {os.environ['AGYN_WORKLOAD_TOKEN']}"}
    print(f"started: run {runs}, volume runs {volume_runs}, mcp {os.environ.get('AGYN_MCP_SERVERS')}", flush=True)
    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        state_reported = None
        while not stopping:
            try:
                if state_reported != "idle":
                    client.post(f"/api/v1/workloads/{workload_id}/touch", json={"agent_state": "idle"})
                    state_reported = "idle"
                unacked = client.get("/api/v1/me/unacked-messages", params={"thread_id": thread_id})
                if unacked.status_code == 401:
                    print("token refused; exiting", flush=True)
                    return 0
                for message in unacked.json().get("items", []):
                    client.post(f"/api/v1/workloads/{workload_id}/touch", json={"agent_state": "processing"})
                    state_reported = "processing"
                    if "slow" in message["body"]:  # a long turn (the tests kill the platform meanwhile)
                        time.sleep(3)
                    body = f"reply to {message['body']!r} (run {runs}, volume runs {volume_runs})"
                    client.post(f"/api/v1/threads/{thread_id}/messages", json={"body": body})
                    client.post("/api/v1/me/ack", json={"message_ids": [message["id"]]})
            except httpx.HTTPError as error:  # the platform restarts: try again
                print(f"platform unreachable: {error}", flush=True)
                state_reported = None
            time.sleep(0.1)
    print("SIGTERM: exiting", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
