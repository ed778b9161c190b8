"""`agyn mcp ...`: the platform's built-in MCP servers, for agents to declare as their MCPs."""

from __future__ import annotations

import os

import typer

from agyn.cli.common import fail

app = typer.Typer(help="Built-in MCP servers an agent can declare (e.g. an MCP with the command `agyn mcp files`).",
                  no_args_is_help=True)


@app.command("files")
def files() -> None:
    """Serve `read_file(file_id)`: the files of this workload's messages, read through the platform.

    Streamable HTTP on MCP_PORT (path /mcp) when set, else stdio. Reads AGYN_PLATFORM_URL and
    AGYN_WORKLOAD_TOKEN (or AGYN_API_URL and AGYN_API_TOKEN), and MAX_FILE_SIZE in bytes (default 10 MiB).
    """
    from agyn.files.mcp import FilesMcpConfigError, serve

    try:
        serve(os.environ)
    except FilesMcpConfigError as error:
        fail(f"cannot start the files MCP server: {error}", "declare it as an agent's MCP, whose workload sets "
                                                            "them, or export them")
