"""The database kit's connection handling (agyn.kit.db)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text

from agyn.kit.db import Database
from agyn.kit.ids import parsed_id


async def test_a_sqlite_connection_returned_inside_a_transaction_is_rolled_back(tmp_path: Path) -> None:
    """The pool rolls back only a connection that holds a transaction open (one that committed holds
    none): an uncommitted write left on a returned connection is still undone."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))

        def write_behind_the_connections_back(sync_connection: Any) -> bool:
            driver = sync_connection.connection.dbapi_connection
            cursor = driver.cursor()
            cursor.execute("INSERT INTO t VALUES (1)")  # SQLite opens a transaction the Connection knows nothing of
            cursor.close()
            return bool(driver.driver_connection.in_transaction)

        async with database.engine.connect() as connection:
            assert await connection.run_sync(write_behind_the_connections_back)
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await database.dispose()


async def test_among_filters_by_the_values_given_each_time(database_url: str) -> None:
    """`among` binds its values as one parameter; on SQLite a tuple's encoding is kept for when the same
    tuple comes again, never served for another one."""
    database = Database(database_url)
    ids = [uuid.uuid4() for _ in range(4)]
    rows = sa.table("among_probe", sa.column("id", sa.Uuid()))
    try:
        async with database.engine.begin() as connection:
            await connection.execute(sa.text("CREATE TABLE among_probe (id CHAR(32) PRIMARY KEY)") if database.is_sqlite
                                     else sa.text("CREATE TABLE among_probe (id UUID PRIMARY KEY)"))
            await connection.execute(sa.insert(rows), [{"id": i} for i in ids])

        async def found(values: Sequence[uuid.UUID]) -> set[uuid.UUID]:
            async with database.engine.connect() as connection:
                statement = sa.select(rows.c.id).where(database.among(rows.c.id, values))
                return set((await connection.execute(statement)).scalars())

        first, second = tuple(ids[:2]), tuple(ids[1:3])
        for _ in range(2):
            assert await found(first) == set(first)
            assert await found(second) == set(second)
        assert await found(list(ids[3:])) == {ids[3]}
        assert await found(()) == set()
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(sa.text("DROP TABLE IF EXISTS among_probe"))
        await database.dispose()


def test_ids_as_the_database_returns_them_are_parsed_once() -> None:
    stored = uuid.uuid4()
    first = parsed_id(stored.hex)
    assert first == stored and parsed_id(stored.hex) is first  # SQLite's hex digits, kept
    assert parsed_id(stored) is stored  # PostgreSQL's driver returns UUIDs


@asynccontextmanager
async def pool_with_a_dead_connection(database_url: str, idle_before_ping: float) -> AsyncIterator[tuple[Database, int]]:
    """A PostgreSQL pool holding one idle connection whose server process was terminated (from another
    pool's connection, waiting until it is gone), and that process's id."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no server to lose")
    database, killer = Database(database_url, idle_before_ping=idle_before_ping), Database(database_url)
    try:
        async with database.engine.connect() as connection:
            backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with killer.engine.connect() as connection:
            assert (await connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": backend})).scalar_one()
        yield database, backend
    finally:
        await killer.dispose()
        await database.dispose()


async def test_an_idle_postgresql_connection_that_died_is_replaced(database_url: str) -> None:
    """A pooled connection idle past `idle_before_ping` is pinged on checkout: one whose server process
    was terminated meanwhile is replaced, and the request goes on as if nothing happened."""
    async with pool_with_a_dead_connection(database_url, idle_before_ping=0.2) as (database, dead):
        await asyncio.sleep(0.3)
        async with database.engine.connect() as connection:
            assert (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one() != dead


async def test_a_connection_back_from_work_a_moment_ago_is_not_pinged(database_url: str) -> None:
    """The ping is three round trips on asyncpg: a connection just returned goes out again without it
    (its server process, terminated in between, is found dead only by the request itself)."""
    async with pool_with_a_dead_connection(database_url, idle_before_ping=60) as (database, _):
        with pytest.raises(sa.exc.DBAPIError) as failure:
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        assert failure.value.connection_invalidated
        async with database.engine.connect() as connection:  # and the pool has moved on
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
