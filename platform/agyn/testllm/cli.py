"""`agyn testllm`: run the scripted test LLM on its own, and check suite files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from agyn.testllm.suites import BUNDLED_SUITES_DIR, SuiteStore, describe_suites

app = typer.Typer(help="The built-in scripted test LLM (OpenAI Responses and Anthropic Messages).",
                  no_args_is_help=True)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

SuitesOption = Annotated[
    list[Path] | None,
    typer.Option("--suites", help="A directory of suite files (*.yaml), served besides the bundled suites; "
                                  "repeat for several. Files are re-read when they change.",
                 show_default=False),
]


def _store(suites: list[Path] | None, check_interval: float = 0.0) -> SuiteStore:
    for directory in suites or []:
        if not directory.is_dir():
            errors.print(f"[bold red]error:[/] {escape(str(directory))} is not a directory", highlight=False)
            raise typer.Exit(1)
    return SuiteStore([BUNDLED_SUITES_DIR, *(suites or [])], check_interval)


def _show_suites(store: SuiteStore) -> None:
    for name, protocol, tests, source in describe_suites(store):
        console.print(f"  [bold]{escape(name)}[/] ({protocol}, {tests} test{'' if tests == 1 else 's'}) "
                      f"[dim]{escape(str(source))}[/]", highlight=False)
    for error in store.errors():
        errors.print(f"  [bold red]not loaded:[/] {escape(str(error))}", highlight=False, soft_wrap=True)


@app.command("serve")
def serve(
    suites: SuitesOption = None,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Listen port.", min=1, max=65535)] = 8090,
) -> None:
    """Serve the test LLM at http://HOST:PORT/testllm/<suite>/v1 (no authentication; keys are ignored)."""
    import uvicorn

    from agyn.testllm.app import MOUNT_PATH, create_standalone_app  # imported here: keeps `agyn` quick to start

    store = _store(suites)
    base = f"http://{host}:{port}{MOUNT_PATH}"
    console.print(f"[bold]agyn test LLM[/] on {base}/<suite>/v1 (responses, messages)", highlight=False)
    _show_suites(store)
    openai_suite = next((n for n, s in sorted(store.suites().items()) if s.protocol == "openai"), "<suite>")
    anthropic_suite = next((n for n, s in sorted(store.suites().items()) if s.protocol == "anthropic"), "<suite>")
    console.print("Point an SDK at it (any API key works; the model is the test's name):", highlight=False)
    console.print(f'  OpenAI:    OpenAI(base_url="{base}/{openai_suite}/v1", api_key="test")', highlight=False)
    console.print(f'  Anthropic: Anthropic(base_url="{base}/{anthropic_suite}", api_key="test")', highlight=False)
    console.print(f"Suites and tests: curl {base}/", highlight=False)
    uvicorn.run(create_standalone_app(store), host=host, port=port, log_level="warning")


@app.command("check")
def check(suites: SuitesOption = None) -> None:
    """Load the suites and report every file that does not load; exit 1 if any."""
    store = _store(suites)
    _show_suites(store)
    if store.errors():
        raise typer.Exit(1)
