"""Usage records: idempotent upserts, the batching writer's delivery, and the summed query."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import func, select

from agyn.kit.db import Database
from agyn.metering import writer as writer_module
from agyn.metering.models import UsageRow
from agyn.metering.records import Unit, UsageRecord, micros
from agyn.metering.service import MeteringService, record_usage
from agyn.settings import MeteringSettings
from tests.conftest import Api, User, assert_problem, running_api
from tests.support.clock import FakeClock

HOUR = timedelta(hours=1)


@pytest_asyncio.fixture
async def api(database_url: str, tmp_path: Path) -> AsyncIterator[Api]:
    """A platform whose writer only writes when told (or when a batch of 10 is full)."""
    async with running_api(database_url, tmp_path / "data", clock=FakeClock(),
                           metering=MeteringSettings(flush_interval=3600, batch_size=10)) as api:
        yield api


def metering(api: Api) -> MeteringService:
    service: MeteringService = api.app.state.platform.get(MeteringService)
    return service


def usage_record(organization_id: str, key: str, value: float, *, unit: Unit = Unit.TOKENS,
                 at: datetime | None = None, **labels: str) -> UsageRecord:
    return UsageRecord(organization_id=uuid.UUID(organization_id), idempotency_key=key, producer="test", unit=unit,
                       value=micros(value), timestamp=at or datetime.now(UTC) - timedelta(minutes=5), labels=labels)


async def stored(database: Database, organization_id: str) -> list[UsageRow]:
    async with database.transaction() as session:
        return list((await session.scalars(select(UsageRow).where(
            UsageRow.organization_id == uuid.UUID(organization_id)).order_by(UsageRow.idempotency_key))).all())


async def org_with_member(api: Api) -> tuple[dict[str, Any], User, User]:
    owner = await api.user()
    organization = await api.organization(owner)
    member = await api.user()
    await api.add_member(organization["id"], member)
    return organization, owner, member


async def test_replaying_a_record_does_not_double_it(api: Api) -> None:
    organization, _, member = await org_with_member(api)
    platform = api.app.state.platform
    first = usage_record(organization["id"], "call-1:input", 12, kind="input", model="gpt")
    record_usage(platform, first, first)  # twice in one batch
    assert await metering(api).writer.flush()
    record_usage(platform, first)  # and again in a later one
    assert await metering(api).writer.flush()
    rows = await stored(platform.database, organization["id"])
    assert [(row.idempotency_key, row.value, row.kind, row.model) for row in rows] == [
        ("call-1:input", 12_000_000, "input", "gpt")]

    corrected = usage_record(organization["id"], "call-1:input", 15, kind="input", model="gpt")
    record_usage(platform, corrected)  # a re-sampled value replaces the first
    assert await metering(api).writer.flush()
    report = await api.client.get("/api/v1/usage", headers=member.headers,
                                  params={"organization_id": organization["id"]})
    assert report.status_code == 200, report.text
    assert [(b["unit"], b["value"], b["value_micros"]) for b in report.json()["buckets"]] == [
        ("TOKENS", 15.0, 15_000_000)]


async def test_the_same_key_in_two_organizations_is_two_records(api: Api) -> None:
    first, _, _ = await org_with_member(api)
    second, _, _ = await org_with_member(api)
    platform = api.app.state.platform
    record_usage(platform, usage_record(first["id"], "k", 1), usage_record(second["id"], "k", 2))
    assert await metering(api).writer.flush()
    assert [row.value for row in await stored(platform.database, first["id"])] == [1_000_000]
    assert [row.value for row in await stored(platform.database, second["id"])] == [2_000_000]


async def test_labels_outside_the_known_set_are_dropped(api: Api) -> None:
    organization, _, _ = await org_with_member(api)
    platform = api.app.state.platform
    record_usage(platform, usage_record(organization["id"], "k", 1, model="m", favourite_colour="blue"))
    assert await metering(api).writer.flush()
    [row] = await stored(platform.database, organization["id"])
    assert row.model == "m" and not hasattr(row, "favourite_colour")


async def test_full_batches_are_written_without_waiting(api: Api) -> None:
    organization, _, _ = await org_with_member(api)
    platform = api.app.state.platform
    record_usage(platform, *(usage_record(organization["id"], f"k{i:02}", 1) for i in range(25)))
    writer = metering(api).writer
    for _ in range(500):  # the loop wakes on a full batch (flush_interval is an hour) and writes it all
        if writer.pending == 0:
            break
        await writer_module.asyncio.sleep(0.01)
    assert writer.pending == 0 and len(await stored(platform.database, organization["id"])) == 25
    record_usage(platform, usage_record(organization["id"], "less-than-a-batch", 1))
    await writer_module.asyncio.sleep(0.1)
    assert writer.pending == 1  # waits for the interval (or the next full batch, or the stop)


async def test_a_failed_write_keeps_its_records_for_the_next(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    organization, _, _ = await org_with_member(api)
    platform = api.app.state.platform
    real = writer_module.upsert_usage
    calls: list[int] = []

    async def failing_once(session: Any, records: Any) -> int:
        calls.append(len(records))
        if len(calls) == 1:
            raise ConnectionError("the database went away")
        return await real(session, records)

    monkeypatch.setattr(writer_module, "upsert_usage", failing_once)
    record_usage(platform, *(usage_record(organization["id"], f"k{i}", 1) for i in range(3)))
    writer = metering(api).writer
    assert not await writer.flush()
    assert writer.pending == 3 and writer.failures == 1
    assert await writer.flush()
    assert writer.pending == 0 and len(await stored(platform.database, organization["id"])) == 3


async def test_stop_flushes_what_was_handed_over(database_url: str, tmp_path: Path) -> None:
    async with running_api(database_url, tmp_path / "data",
                           metering=MeteringSettings(flush_interval=3600, batch_size=1000)) as api:
        organization, _, _ = await org_with_member(api)
        record_usage(api.app.state.platform, *(usage_record(organization["id"], f"k{i}", 1) for i in range(7)))
        assert metering(api).writer.pending == 7
    database = Database(database_url)
    try:
        async with database.transaction() as session:
            count = await session.scalar(select(func.count()).select_from(UsageRow).where(
                UsageRow.organization_id == uuid.UUID(organization["id"])))
    finally:
        await database.dispose()
    assert count == 7


async def test_usage_sums_per_period_label_and_unit(api: Api) -> None:
    organization, _, member = await org_with_member(api)
    platform = api.app.state.platform
    base = datetime(2026, 11, 20, 10, 15, tzinfo=UTC)
    record_usage(
        platform,
        usage_record(organization["id"], "a", 10, at=base, model="gpt", kind="input"),
        usage_record(organization["id"], "b", 5, at=base + timedelta(minutes=30), model="gpt", kind="output"),
        usage_record(organization["id"], "c", 7, at=base + HOUR, model="claude", kind="input"),
        usage_record(organization["id"], "d", 1, at=base + HOUR, unit=Unit.COUNT, model="claude", kind="request"),
        usage_record(organization["id"], "e", 2.5, at=base + 24 * HOUR, model="gpt", kind="input"),
        usage_record(organization["id"], "old", 100, at=base - 48 * HOUR, model="gpt", kind="input"),
    )
    assert await metering(api).writer.flush()

    async def get(**params: str) -> list[tuple[Any, ...]]:
        response = await api.client.get("/api/v1/usage", headers=member.headers, params={
            "organization_id": organization["id"], "start": "2026-11-20T00:00:00Z", "end": "2026-11-22T00:00:00Z",
            **params})
        assert response.status_code == 200, response.text
        return [(b["start"], b["unit"], b["group"], b["value"]) for b in response.json()["buckets"]]

    assert await get() == [(None, "COUNT", None, 1.0), (None, "TOKENS", None, 24.5)]
    assert await get(group_by="model", unit="TOKENS") == [(None, "TOKENS", "claude", 7.0),
                                                           (None, "TOKENS", "gpt", 17.5)]
    assert await get(granularity="hour", unit="TOKENS") == [
        ("2026-11-20T10:00:00Z", "TOKENS", None, 15.0), ("2026-11-20T11:00:00Z", "TOKENS", None, 7.0),
        ("2026-11-21T10:00:00Z", "TOKENS", None, 2.5)]
    assert await get(granularity="day", group_by="kind", model="gpt") == [
        ("2026-11-20T00:00:00Z", "TOKENS", "input", 10.0), ("2026-11-20T00:00:00Z", "TOKENS", "output", 5.0),
        ("2026-11-21T00:00:00Z", "TOKENS", "input", 2.5)]


async def test_usage_is_read_by_members_only(api: Api) -> None:
    organization, owner, member = await org_with_member(api)
    outsider = await api.user()
    params = {"organization_id": organization["id"]}
    for caller in (owner, member):
        assert (await api.client.get("/api/v1/usage", headers=caller.headers, params=params)).status_code == 200
    assert (await api.client.get("/api/v1/usage", headers=api.admin, params=params)).status_code == 200
    assert_problem(await api.client.get("/api/v1/usage", headers=outsider.headers, params=params), 404, "not_found")
    assert_problem(await api.client.get("/api/v1/usage", params=params), 401, "unauthenticated")


async def test_usage_query_mistakes_are_explained(api: Api) -> None:
    organization, _, member = await org_with_member(api)
    base = {"organization_id": organization["id"]}
    for params, field in (({"group_by": "colour"}, "group_by"), ({"colour": "blue"}, "colour"),
                          ({"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}, "start")):
        problem = assert_problem(await api.client.get("/api/v1/usage", headers=member.headers,
                                                      params={**base, **params}), 400, "invalid_argument")
        assert problem["detail"].startswith(field)
    bad_unit = await api.client.get("/api/v1/usage", headers=member.headers, params={**base, "unit": "LITRES"})
    assert bad_unit.status_code == 400
