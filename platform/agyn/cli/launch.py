"""The `agyn` command's entry point. `agyn agent-runtime` is what every workload starts with, and a cold
start waits for it: it runs without loading the other commands (their imports cost about a third of a
second); everything else goes to the full command line."""

from __future__ import annotations

import sys

import typer


def main() -> None:
    if sys.argv[1:] == ["agent-runtime"]:
        from agyn.cli.runtime import agent_runtime

        try:
            agent_runtime()
        except typer.Exit as stop:  # `fail` ends commands this way; typer turns it into the exit code
            sys.exit(stop.exit_code)
        return
    from agyn.cli.main import app

    app(prog_name="agyn")
