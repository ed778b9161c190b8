from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from agyn.kit.collections import build_schemas
from agyn.kit.http import ReadSchema, Schema
from agyn.runners.resources import RUNNER

RunnerSchemas = build_schemas(RUNNER)

WorkloadStatus = Literal["starting", "running", "stopping", "stopped", "failed"]
AgentState = Literal["idle", "processing"]
FailureReason = Literal["start_failed", "image_pull_failed", "config_invalid", "crashloop", "runtime_lost"]


class ContainerRead(ReadSchema):
    name: str
    role: Literal["main", "sidecar", "init"]
    status: Literal["waiting", "running", "exited"]
    exit_code: int | None = None
    restarts: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    reason: str | None = None


class WorkloadRead(ReadSchema):
    id: uuid.UUID
    runner_id: uuid.UUID
    thread_id: uuid.UUID
    agent_id: uuid.UUID
    organization_id: uuid.UUID
    status: WorkloadStatus
    agent_state: AgentState | None
    containers: list[ContainerRead]
    failure_reason: FailureReason | None
    failure_message: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_activity_at: datetime | None
    removed_at: datetime | None


class WorkloadTouch(Schema):
    agent_state: AgentState = Field(description="What the runtime is doing now: processing a message, or idle.")


class RunnerStatus(ReadSchema):
    runner_id: uuid.UUID
    status: Literal["enrolled", "online", "offline"] = Field(
        description="enrolled: registered, never connected; online: spoke within the offline window; offline.")
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    workloads: int = Field(description="Its workloads that are starting, running or stopping.")


def container_reads(containers: list[dict[str, Any]]) -> list[ContainerRead]:
    return [ContainerRead.model_validate(c) for c in containers]
