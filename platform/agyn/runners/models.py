"""Runners (a registry collection), their workloads, and the volume instances workloads leave behind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agyn.kit.collections import build_model
from agyn.kit.db import Base, utcnow
from agyn.kit.ids import uuid7
from agyn.runners.resources import RUNNER

Runner = build_model(RUNNER)

WORKLOAD_STATUSES = ("starting", "running", "stopping", "stopped", "failed")
ACTIVE = ("starting", "running", "stopping")
FAILURE_REASONS = ("start_failed", "config_invalid", "crashloop", "runtime_lost")


class Workload(Base):
    """One run of one agent on one thread, on one runner. Never reused: a restart is a new workload, so
    the pair's workloads are its history (backoff and degradation are read off them)."""

    __tablename__ = "workloads"
    __table_args__ = (
        Index("ix_workloads_thread_id_agent_id_created_at", "thread_id", "agent_id", "created_at"),
        Index("ix_workloads_status", "status"),
        Index("ix_workloads_organization_id_id", "organization_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    runner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    agent_id: Mapped[uuid.UUID] = mapped_column()
    organization_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), default="starting")
    agent_state: Mapped[str | None] = mapped_column(String(16))
    containers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    failure_reason: Mapped[str | None] = mapped_column(String(32))
    failure_message: Mapped[str | None] = mapped_column(Text)
    agent_version: Mapped[datetime | None] = mapped_column()
    """The agent's `updated_at` when this workload started: a newer agent retries a failure at once."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    last_activity_at: Mapped[datetime | None] = mapped_column()
    removed_at: Mapped[datetime | None] = mapped_column()
    metered_until: Mapped[datetime | None] = mapped_column()
    """Compute is metered up to here (CORE_SECONDS, one record per interval)."""


class VolumeInstance(Base):
    """A volume's data for one thread, on the runner that holds it: the thread's workloads stay there."""

    __tablename__ = "volume_instances"
    __table_args__ = (UniqueConstraint("volume_id", "thread_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)
    volume_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("volumes.id", ondelete="CASCADE"))
    thread_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"), index=True)
    runner_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RunnerPresence(Base):
    """When a runner last spoke to the platform (remote runners report on their channel)."""

    __tablename__ = "runner_presence"

    runner_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
