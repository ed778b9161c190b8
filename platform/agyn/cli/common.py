"""What every `agyn` command shares: the consoles, one-line errors, the data-dir option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

console = Console()
errors = Console(stderr=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", metavar="DIR", show_default=False,
                 help="Where the SQLite database, keys and the admin token live (env AGYN_DATA_DIR; default .agyn)."),
]


def fail(message: str, fix: str | None = None) -> NoReturn:
    """One clear line saying what went wrong, and how to fix it."""
    errors.print(f"[bold red]error:[/] {escape(message)}" + (f" — {escape(fix)}" if fix else ""), highlight=False,
                 soft_wrap=True)
    raise typer.Exit(1)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def wide_console() -> Console:
    """Tables: piped into another program, rows are not squeezed to a terminal's width."""
    return console if console.is_terminal else Console(width=max(console.width, 160))
