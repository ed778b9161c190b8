"""The Kubernetes runner: what a reconcile pass's inspections cost, reading each Pod from the API
server versus from what the runner's watch keeps.

    python benchmarks/kubernetes_runner.py [--pods 200] [--passes 10]

Starts the tests' local Kubernetes API server (`tests/support/kube_api.py`) in this process, starts
`--pods` workloads through the runner (the official client over HTTP), then times `--passes` rounds of
inspecting every one of them: first without the watch (one GET per workload, as a runner whose watch
is down does), then with it. Prints the p50 of a round for each and their ratio. Both share the event
loop and the cores with the API server: the GETs' figure is a lower bound of a real API server's
round trips, so the ratio understates the difference.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agyn.runners.kubernetes import KubernetesRuntime
from agyn.runners.runtime import WorkloadSpec
from agyn.settings import KubernetesSettings
from tests.support.kube_api import KubeApiServer


async def rounds(runtime: KubernetesRuntime, ids: list[uuid.UUID], passes: int) -> list[float]:
    timings = []
    for _ in range(passes):
        began = time.perf_counter()
        for workload_id in ids:
            await runtime.inspect(workload_id)
        timings.append(time.perf_counter() - began)
    return timings


async def main(pods: int, passes: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        async with KubeApiServer() as kube:
            settings = KubernetesSettings(kubeconfig=kube.kubeconfig(Path(scratch)), namespace="bench")
            runtime = KubernetesRuntime(settings, on_change=lambda _workload_id: None)
            ids = [uuid.uuid4() for _ in range(pods)]
            print(f"starting {pods} workloads ...", flush=True)
            for workload_id in ids:
                await runtime.start(WorkloadSpec(workload_id, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "x",
                                                 {"TOKEN": "t"}))
            direct = await rounds(runtime, ids, passes)
            runtime.watch()
            while len(runtime._seen) < pods:  # the watch's first listing
                await asyncio.sleep(0.05)
            watched = await rounds(runtime, ids, passes)
            await runtime.close()
    one, other = statistics.median(direct), statistics.median(watched)
    print(f"inspect {pods} workloads, p50 of {passes} rounds:")
    print(f"  one GET per Pod       {one * 1000:9.1f} ms")
    print(f"  from the watch        {other * 1000:9.1f} ms")
    print(f"  ratio                 {one / other:9.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=200)
    parser.add_argument("--passes", type=int, default=10)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.pods, arguments.passes))
