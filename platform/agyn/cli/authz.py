"""`agyn authz check-consistency [--repair]`: relationship tuples that outlived their objects."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Column, Table

from agyn.cli.common import DataDirOption, console, fail, plural, wide_console

app = typer.Typer(help="Inspect the authorization store.", no_args_is_help=True)


@app.command("check-consistency")
def check_consistency(
    data_dir: DataDirOption = None,
    repair: Annotated[bool, typer.Option("--repair", help="Delete the orphan tuples found.")] = False,
) -> None:
    """Report tuples naming an object or identity that no longer exists (orphans); --repair deletes them.

    Works on the platform's database (AGYN_DATABASE_URL, or the SQLite file in the data dir) and on its
    OpenFGA store when one is configured. Exits 1 when orphans are found and not repaired. A running
    platform on the embedded engine forgets repaired tuples at its next start.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from agyn.authorization.consistency import Orphan, find_orphans, remove_orphans
    from agyn.authorization.service import AuthorizationService
    from agyn.cli.main import database_problem, load_settings
    from agyn.kit.db import Database
    from agyn.migrations import SchemaOutOfDate, check_schema

    settings = load_settings(data_dir=data_dir)

    async def run() -> list[Orphan]:
        database = Database(settings.effective_database_url)
        authz = AuthorizationService.from_settings(settings)
        try:
            await check_schema(database)
            async with database.transaction() as session:
                orphans = await find_orphans(session, authz)
                if repair and orphans:
                    await remove_orphans(session, authz, orphans)
            return orphans
        finally:
            await authz.backend.close()
            await database.dispose()

    try:
        orphans = asyncio.run(run())
    except SchemaOutOfDate as error:
        fail(str(error))
    except (OSError, SQLAlchemyError) as error:
        fail(f"cannot use the database: {database_problem(error)}",
             "check AGYN_DATABASE_URL and that the database server is running")
    if not orphans:
        console.print("No orphan tuples: every tuple names objects that exist.", highlight=False)
        return
    table = Table(Column("object"), Column("relation"), Column("user"), Column("missing"), box=None)
    for orphan in orphans:
        table.add_row(orphan.key.object, orphan.key.relation, orphan.key.user, orphan.missing)
    wide_console().print(table)
    if repair:
        console.print(f"Removed {plural(len(orphans), 'orphan tuple')}.", highlight=False)
        return
    fail(f"found {plural(len(orphans), 'orphan tuple')}", "run `agyn authz check-consistency --repair` to remove "
                                                          "them")
