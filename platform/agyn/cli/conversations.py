"""`agyn conversations`: the chat layer (list, open, resolve)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.markup import escape
from rich.table import Column, Table

from agyn.cli.client import (
    DEFAULT_URL,
    ApiUrlOption,
    DataDirOption,
    OrganizationOption,
    TokenOption,
    call,
    connect,
    console,
    one_line,
    organization_id,
    print_table,
)

app = typer.Typer(help="Conversations with people and agents (a running platform).", no_args_is_help=True)


@app.command("list")
def list_conversations(
    organization: Annotated[str | None, typer.Option("--org", envvar="AGYN_ORGANIZATION_ID", metavar="ORG",
                                                     help="Only this organization's (id or name).")] = None,
    status: Annotated[Literal["open", "resolved", "all"], typer.Option(help="open, resolved or all.")] = "open",
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Your conversations, newest first, with unread counts and what their agents are doing."""
    table = Table(Column("ID", no_wrap=True, min_width=36), "Status", "Unread", "Activity", "Summary", "Last message")
    with connect(api_url, token, data_dir) as client:
        params: dict[str, str | int] = {"status": status, "page_size": 100}
        if organization:
            params["organization_id"] = organization_id(client, organization)
        page = call(client, "GET", "/api/v1/conversations", params=params)
    for c in page["items"]:
        last = c["last_message"]
        table.add_row(c["id"], c["status"], str(c["unread_count"]), c["activity_status"] or "",
                      escape(one_line(c["summary"] or "", 40)), escape(one_line(last["preview"], 40)) if last else "")
    print_table(table)


@app.command("open")
def open_conversation(
    participants: Annotated[list[str], typer.Argument(metavar="PARTICIPANT...",
                                                      help="Identity ids or @nicknames of the organization.")],
    organization: OrganizationOption,
    message: Annotated[str | None, typer.Option("--message", "-m", help="A first message.")] = None,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Start a conversation with people and agents."""
    with connect(api_url, token, data_dir) as client:
        body = {"organization_id": organization_id(client, organization), "participants": participants,
                **({"message": message} if message is not None else {})}
        created = call(client, "POST", "/api/v1/conversations", json=body)
    console.print(f"Opened conversation {created['id']}.", highlight=False)


@app.command("resolve")
def resolve(
    conversation_id: Annotated[str, typer.Argument(metavar="CONVERSATION_ID")],
    reopen: Annotated[bool, typer.Option("--reopen", help="Open it again instead.")] = False,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Mark a conversation resolved (or, with --reopen, open again)."""
    status = "open" if reopen else "resolved"
    with connect(api_url, token, data_dir) as client:
        call(client, "PATCH", f"/api/v1/conversations/{conversation_id}", json={"status": status})
    console.print(f"Conversation {conversation_id} is {status}.", highlight=False)
