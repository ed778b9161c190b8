"""`agyn web build`: bundle the web chat page that `agyn serve` serves at `/`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from agyn.cli.common import console, fail

app = typer.Typer(help="The web chat page served at / by `agyn serve`.", no_args_is_help=True)


@app.command("build")
def build(force: Annotated[bool, typer.Option("--force", help="Rebuild even when it is up to date.")] = False
          ) -> None:
    """Install the page's locked npm dependencies (when needed) and bundle it (Node.js 20+ and npm needed).
    Nothing is fetched at run time: the page loads only from the platform."""
    from agyn.web.bundle import STATIC, BundleError
    from agyn.web.bundle import build as build_bundle

    try:
        with console.status("building the web page…") as status:
            built = build_bundle(lambda step: status.update(f"{step}…"), force=force)
    except BundleError as error:
        fail(str(error))
    console.print(f"web page {'built' if built else 'up to date'}: {escape(str(STATIC))}", highlight=False)
