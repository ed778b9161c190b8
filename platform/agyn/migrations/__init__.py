"""Schema migrations (Alembic), applied by `agyn db upgrade` and at start in embedded mode."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from agyn.kit.db import Database

SCRIPT_LOCATION = Path(__file__).parent


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def upgrade(database: Database, revision: str = "head") -> None:
    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with database.engine.begin() as connection:
        await connection.run_sync(run)


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def new_revision(message: str) -> Path:
    """Write the next numbered revision from the difference between the models and the schema
    at head (computed on a scratch SQLite database), for developers changing models."""
    import re
    import tempfile

    versions = SCRIPT_LOCATION / "versions"
    head = head_revision()
    number = f"{int(head) + 1:04d}" if head else "0001"
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    with tempfile.TemporaryDirectory() as scratch:
        database = Database(f"sqlite+aiosqlite:///{scratch}/scratch.db")
        try:
            await upgrade(database)

            def run(connection: Connection) -> None:
                command.revision(alembic_config(connection), message=message, autogenerate=True,
                                 rev_id=number)

            async with database.engine.begin() as connection:
                await connection.run_sync(run)
        finally:
            await database.dispose()
    [generated] = versions.glob(f"{number}_*.py")
    target = versions / f"{number}_{slug}.py"
    generated.rename(target)
    return target


class SchemaOutOfDate(RuntimeError):
    pass


async def check_schema(database: Database) -> None:
    """A server database must already be at the code's schema: `agyn db upgrade` migrates it."""
    current, head = await current_revision(database), head_revision()
    if current != head:
        state = f"is at {current}" if current else "is empty"
        raise SchemaOutOfDate(f"the database schema {state}, the code needs {head}: run `agyn db upgrade`")
