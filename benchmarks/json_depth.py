"""The JSON depth limit's cost: scanning a body before it is parsed, next to parsing it.

    python benchmarks/json_depth.py [--repeat 20]

Bodies: a small control-plane create (an agent with a configuration), an LLM request with a long
conversation (about 100 KB), and one of about 1 MB; each is scanned as it streams in (64 KB chunks,
as uvicorn delivers them) by `DepthScanner` and parsed by `json.loads`. Prints the median time of
each and the scanner's throughput.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

from agyn.kit.jsonlimits import DepthScanner

CHUNK = 65536


def agent_body() -> bytes:
    return json.dumps({"organization_id": "01a21550-01fd-7331-91cd-59bde620413d", "name": "reviewer",
                       "role": "assistant", "model": "01a21550-0253-72fa-94f9-531f6c478917",
                       "configuration": {"tools": [{"name": f"tool{i}", "args": {"depth": [1, [2, [3]]]}}
                                                   for i in range(20)]}}).encode()


def llm_body(turns: int) -> bytes:
    text = "Please review this change; it moves the lock into the service. " * 8
    return json.dumps({"model": "gpt-4o", "input": [
        {"role": "user" if i % 2 == 0 else "assistant", "content": [{"type": "input_text", "text": text}]}
        for i in range(turns)]}).encode()


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def scan(body: bytes) -> None:
    scanner = DepthScanner()
    for start in range(0, len(body), CHUNK):
        if not scanner.feed(body[start:start + CHUNK]):
            raise AssertionError("a benchmark body is within the limit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{'body':<22}{'size':>10}{'scan':>12}{'json.loads':>12}{'scan MB/s':>12}")
    for label, body in (("agent create", agent_body()), ("LLM request, 160 turns", llm_body(160)),
                        ("LLM request, 1.6k turns", llm_body(1600))):
        scanned = median_seconds(lambda body=body: scan(body), args.repeat)  # type: ignore[misc]
        parsed = median_seconds(lambda body=body: json.loads(body), args.repeat)  # type: ignore[misc]
        print(f"{label:<22}{len(body) / 1024:>8.0f}KB{scanned * 1e6:>10.0f}us{parsed * 1e6:>10.0f}us"
              f"{len(body) / scanned / 1e6:>12.0f}")


if __name__ == "__main__":
    main()
