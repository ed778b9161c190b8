"""A conflict caused by a concurrent request (the database refused a write another request raced us to)
is marked `retryable` in its problem document, so clients such as the Terraform provider retry it;
a conflict caused by the input is not."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from agyn.kit.db import Database
from agyn.kit.errors import AlreadyExists, install_error_handlers
from agyn.kit.http import IdempotencyRecord


def app_raising(error: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/things")
    async def create() -> None:
        raise error

    return app


@pytest.mark.parametrize(("orig", "code"), [
    (Exception("UNIQUE constraint failed: things.name"), "already_exists"),
    (Exception("FOREIGN KEY constraint failed"), "conflict"),
])
async def test_database_races_are_retryable(orig: Exception, code: str) -> None:
    transport = httpx.ASGITransport(app=app_raising(IntegrityError("INSERT", {}, orig)))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = (await client.post("/things")).json()
    assert (body["status"], body["code"], body["retryable"]) == (409, code, True)


async def test_conflicts_with_the_input_are_not() -> None:
    transport = httpx.ASGITransport(app=app_raising(AlreadyExists("a thing named 'x' already exists")))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = (await client.post("/things")).json()
    assert body["code"] == "already_exists" and "retryable" not in body


async def test_a_real_unique_violation_is_retryable_on_every_backend(database_url: str) -> None:
    """The error as each driver raises it: SQLite's message text, PostgreSQL's SQLSTATE 23505 (asyncpg)."""
    row = {"scope": "dup", "request_hash": "h", "status_code": 201, "media_type": None, "body": "",
           "etag": None, "created_at": datetime.now(UTC)}
    database = Database(database_url)
    try:
        with pytest.raises(IntegrityError) as raised:
            async with database.transaction() as session:  # rolled back: nothing stays behind
                await session.execute(insert(IdempotencyRecord.__table__), [row])
                await session.execute(insert(IdempotencyRecord.__table__), [row])
    finally:
        await database.dispose()
    if not database_url.startswith("sqlite"):
        assert getattr(raised.value.orig, "sqlstate", None) == "23505"
    transport = httpx.ASGITransport(app=app_raising(raised.value))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        body = (await client.post("/things")).json()
    assert (body["status"], body["code"], body["retryable"]) == (409, "already_exists", True)
