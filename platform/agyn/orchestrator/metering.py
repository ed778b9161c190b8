"""Compute metering: CORE_SECONDS per workload interval.

A running workload is metered in intervals of at most `INTERVAL`, and once more when it ends; each
record's idempotency key names its workload and its interval's start, so a replayed interval (a pass
that failed after recording it, a new leader) replaces the record instead of adding to it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from agyn.metering.records import Unit, UsageRecord, micros
from agyn.runners.models import Workload

INTERVAL = timedelta(minutes=1)
PRODUCER = "orchestrator"
_CPU = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)(m?)$")


def cores(resources: dict[str, Any] | None) -> float:
    """The cores a workload holds: its agent's CPU request (`250m`, `2`), else one."""
    request = (resources or {}).get("requests_cpu")
    found = _CPU.match(str(request).strip()) if request else None
    if found is None:
        return 1.0
    value = float(found.group(1))
    return value / 1000 if found.group(2) else value


def _record(workload: Workload, start: datetime, end: datetime, cpu: float = 1.0) -> UsageRecord:
    return UsageRecord(
        organization_id=workload.organization_id, idempotency_key=f"compute:{workload.id}:{start.isoformat()}",
        producer=PRODUCER, unit=Unit.CORE_SECONDS, value=micros(cpu * (end - start).total_seconds()),
        timestamp=start, labels={"resource": "workload", "resource_id": str(workload.id),
                                 "agent_id": str(workload.agent_id), "thread_id": str(workload.thread_id),
                                 "runner_id": str(workload.runner_id)})


def interval(workload: Workload, now: datetime, cpu: float, *, final: bool) -> UsageRecord | None:
    """The record of the workload's next interval if one is due (always when `final`), and moves
    `metered_until` to its end."""
    start = workload.metered_until or workload.started_at
    if start is None or now <= start or (not final and now - start < INTERVAL):
        return None
    workload.metered_until = now
    return _record(workload, start, now, cpu)
