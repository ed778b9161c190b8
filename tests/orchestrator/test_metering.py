"""Compute metering: a workload's CORE_SECONDS, one record per interval (at most a minute, and the last
when it stops), its cores from the agent's CPU request; a replayed interval replaces its record."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import select

from agyn.metering.models import UsageRow
from agyn.metering.records import MICROS
from agyn.metering.service import MeteringService
from agyn.orchestrator import metering
from agyn.runners.models import Workload
from tests.orchestrator.support import Live, eventually, live_platform
from tests.orchestrator.test_workloads import _running_idle, _status, replies
from tests.support.clock import FakeClock
from tests.threads.support import make_team


async def compute(live: Live) -> list[UsageRow]:
    await live.platform.get(MeteringService).writer.flush()
    async with live.platform.database.transaction() as session:
        return list((await session.scalars(select(UsageRow).where(UsageRow.unit == "CORE_SECONDS")
                                           .order_by(UsageRow.timestamp))).all())


async def test_core_seconds_per_interval_and_a_replay_replaces(database_url: str, tmp_path: Path) -> None:
    clock = FakeClock()
    async with live_platform(database_url, tmp_path / "data", clock=clock) as live:
        team = await make_team(live.api)
        agent = await team.org.agent(nickname="metered", idle_timeout="2m", resources={"requests_cpu": "500m"})
        thread = await team.thread(team.bob, "@metered")
        await team.sent(team.bob, thread["id"], "hello")
        await eventually(lambda: replies(team, thread["id"], agent["id"]), what="the reply")
        workload = await eventually(lambda: _running_idle(live, thread["id"]), what="the running, idle workload")
        assert await compute(live) == []

        clock.advance(61)
        await live.loop.orchestrator.reconcile_once()
        [first] = await compute(live)
        assert first.value == 61 * MICROS // 2  # half a core for 61 s
        assert first.idempotency_key.startswith(f"compute:{workload['id']}:")
        assert (first.agent_id, first.thread_id, first.resource_id) == (agent["id"], thread["id"], workload["id"])
        clock.advance(30)
        await live.loop.orchestrator.reconcile_once()
        assert len(await compute(live)) == 1  # the next interval is not due yet

        clock.advance(49)  # 140 s in: idle for two minutes, stopped; its last interval is metered
        await eventually(lambda: _status(live, thread["id"], "stopped"), what="the idle stop")
        rows = await compute(live)
        assert [r.value for r in rows] == [61 * MICROS // 2, 79 * MICROS // 2]

        async with live.platform.database.transaction() as session:  # a new leader replays the last interval
            row = await session.get(Workload, uuid.UUID(workload["id"]))
            assert row is not None
            row.metered_until = rows[1].timestamp
            record = metering.interval(row, clock.now(), 0.5, final=True)
        assert record is not None and record.idempotency_key == rows[1].idempotency_key
        live.platform.get(MeteringService).record(record)
        assert [r.value for r in await compute(live)] == [61 * MICROS // 2, 79 * MICROS // 2]
        assert metering.cores({"requests_cpu": "2"}) == 2.0 and metering.cores(None) == 1.0
