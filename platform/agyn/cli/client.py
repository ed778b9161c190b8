"""How the conversation commands reach a running platform: `AGYN_API_URL` and `AGYN_API_TOKEN`
(or `--api-url` / `--token`), else a local platform's admin token in the data dir."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.markup import escape

console = Console()
errors = Console(stderr=True)

# inside an agent workload the runner sets AGYN_PLATFORM_URL and AGYN_WORKLOAD_TOKEN: the same commands work there
ApiUrlOption = Annotated[str, typer.Option("--api-url", envvar=["AGYN_API_URL", "AGYN_PLATFORM_URL"], metavar="URL",
                                           help="The platform's URL.")]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar=["AGYN_API_TOKEN", "AGYN_WORKLOAD_TOKEN"], metavar="TOKEN", show_default=False,
                 help="API token (default: the admin token in the data dir)."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", metavar="DIR", show_default=False,
                 help="Where a local platform keeps its admin token (env AGYN_DATA_DIR; default .agyn)."),
]
OrganizationOption = Annotated[
    str, typer.Option("--org", envvar="AGYN_ORGANIZATION_ID", metavar="ORG",
                      help="The organization: its id or its name (env AGYN_ORGANIZATION_ID).")]
DEFAULT_URL = "http://127.0.0.1:8080"

FIXES = {
    401: "check the token (--token or AGYN_API_TOKEN)",
    403: "ask an owner of the organization (or of the agent) for access",
    404: "check the id; you see only threads and conversations you take part in",
    409: "start a new conversation (`agyn conversations open`)",
    413: "send a shorter message",
}


def fail(message: str, fix: str | None = None) -> NoReturn:
    """One clear line saying what went wrong, and how to fix it."""
    errors.print(f"[bold red]error:[/] {escape(message)}" + (f" — {escape(fix)}" if fix else ""), highlight=False,
                 soft_wrap=True)
    raise typer.Exit(1)


def connect(api_url: str, token: str | None, data_dir: Path | None) -> httpx.Client:
    if token is None:
        token_file = (data_dir or Path(os.environ.get("AGYN_DATA_DIR", ".agyn"))) / "admin-token"
        if not token_file.is_file():
            fail("no API token given", "pass --token or set AGYN_API_TOKEN")
        token = token_file.read_text().strip()
    return httpx.Client(base_url=api_url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=30)


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The response's JSON; a transport error or an error status is one line and exit 1."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        fail(f"cannot reach {client.base_url}: {error}", "start the platform with `agyn serve`, or set AGYN_API_URL")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        fail(f"{method} {path} failed ({response.status_code}): {detail}", FIXES.get(response.status_code))
    return response.json() if response.content else None


def organization_id(client: httpx.Client, organization: str) -> str:
    """An organization given by id or by name."""
    try:
        return str(uuid.UUID(organization))
    except ValueError:
        pass
    found = call(client, "GET", "/api/v1/organizations", params={"name": organization})["items"]
    if not found:
        fail(f"no organization named {organization!r} that you can see", "check the name, or pass its id")
    return str(found[0]["id"])


def when(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def one_line(text: str, width: int = 60) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def print_table(table: Any) -> None:
    # piped into another program, rows are not squeezed to a terminal's width
    (console if console.is_terminal else Console(width=max(console.width, 160))).print(table)
