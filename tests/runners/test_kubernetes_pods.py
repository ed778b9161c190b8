"""Reading a Pod's state, alone (the cases the orchestrator-driven tests do not reach): an evicted Pod,
an init container restarting past the threshold, a Pod the kubelet has not reported yet, a Pod that
ended by itself with code 0."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from agyn.runners.pods import observe_pod

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
WORKLOAD = uuid.uuid4()


def pod(status: dict[str, Any], age: float = 5) -> dict[str, Any]:
    created = (NOW - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"metadata": {"name": "p", "creationTimestamp": created}, "status": status}


def read(found: dict[str, Any]) -> Any:
    return observe_pod(WORKLOAD, found, NOW, start_grace=60, crashloop_threshold=3)


def test_an_evicted_pod_is_lost_with_its_reason() -> None:
    observed = read(pod({"phase": "Failed", "reason": "Evicted", "message": "the node was low on memory"}))
    assert observed.status == "lost" and "Evicted" in (observed.message or "")


def test_an_init_container_failing_past_the_threshold_fails_the_start() -> None:
    init = {"name": "init-0", "restartCount": 3,
            "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}
    observed = read(pod({"phase": "Pending", "initContainerStatuses": [init]}))
    assert (observed.status, observed.failure_reason) == ("failed", "start_failed")
    init["restartCount"] = 1
    assert read(pod({"phase": "Pending", "initContainerStatuses": [init]})).status == "pending"


def test_a_pod_without_statuses_is_pending_and_no_pod_is_lost() -> None:
    assert read(pod({"phase": "Pending"})).status == "pending"
    assert observe_pod(WORKLOAD, None, NOW, start_grace=60, crashloop_threshold=3).status == "lost"


def test_a_runtime_that_ended_with_code_0_exited_cleanly() -> None:
    main = {"name": "runtime", "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
    observed = read(pod({"phase": "Succeeded", "containerStatuses": [main]}))
    assert (observed.status, observed.exit_code, observed.message) == ("exited", 0, None)
    assert observed.containers[0].reason == "Completed"
