"""A conflict caused by a concurrent request (the database refused a write another request raced us to)
is marked `retryable` in its problem document, so clients such as the Terraform provider retry it;
a conflict caused by the input is not."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from agyn.kit.errors import AlreadyExists, install_error_handlers


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
