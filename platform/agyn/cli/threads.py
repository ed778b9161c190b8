"""`agyn threads`: the thread layer, as agents and apps use it (create, send, read, ack)."""

from __future__ import annotations

import sys
from typing import Annotated, Any

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
    fail,
    one_line,
    organization_id,
    print_table,
    when,
)

app = typer.Typer(help="Threads: send messages, read them, acknowledge them (a running platform).",
                  no_args_is_help=True)
ThreadArgument = Annotated[str, typer.Argument(envvar=["AGYN_THREAD_ID", "THREAD_ID"], metavar="THREAD_ID",
                                               help="The thread (default: AGYN_THREAD_ID, or THREAD_ID inside "
                                                    "an agent workload).", show_default=False)]


def messages_table(messages: list[dict[str, Any]], *, with_thread: bool = False) -> Table:
    table = Table(Column("ID", no_wrap=True, min_width=36), *(["Thread"] if with_thread else []), "Sender", "Sent",
                  "Body")
    for m in messages:
        table.add_row(m["id"], *([m["thread_id"]] if with_thread else []), m["sender_id"], when(m["created_at"]),
                      escape(one_line(m["body"])))
    return table


@app.command("create")
def create(
    participants: Annotated[list[str], typer.Argument(metavar="PARTICIPANT...",
                                                      help="Identity ids or @nicknames of the organization.")],
    organization: OrganizationOption,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Create a thread with participants (you take part too)."""
    with connect(api_url, token, data_dir) as client:
        thread = call(client, "POST", "/api/v1/threads", json={
            "organization_id": organization_id(client, organization), "participants": participants})
    console.print(f"Created thread {thread['id']} with {len(thread['participants'])} participants.", highlight=False)


@app.command("send")
def send(
    thread_id: Annotated[str, typer.Option("--thread", "-t", envvar=["AGYN_THREAD_ID", "THREAD_ID"],
                                           metavar="THREAD_ID", show_default=False,
                                           help="The thread (default: AGYN_THREAD_ID, or THREAD_ID inside an "
                                                "agent workload).")],
    body: Annotated[str | None, typer.Argument(help="The message; `-` reads it from standard input.",
                                               show_default=False)] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="The message (instead of BODY).",
                                                show_default=False)] = None,
    file_ids: Annotated[list[str] | None, typer.Option("--file-id", help="A file to attach (repeatable).")] = None,
    idempotency_key: Annotated[str | None, typer.Option(help="Retrying with the same key sends once.")] = None,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Send a message to a thread (inside an agent workload: to the workload's own thread)."""
    if (body is None) == (message is None):
        fail("give the message once", "pass it as BODY or with --message")
    body = body if body is not None else message
    assert body is not None
    if body == "-":
        body = sys.stdin.read()
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    with connect(api_url, token, data_dir) as client:
        sent = call(client, "POST", f"/api/v1/threads/{thread_id}/messages", headers=headers,
                    json={"body": body, "file_ids": file_ids or []})
    console.print(f"Sent message {sent['id']}.", highlight=False)


@app.command("messages")
def messages(
    thread_id: ThreadArgument,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, oldest first.")] = 100,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """List a thread's messages, oldest first (reading acknowledges nothing)."""
    found: list[dict[str, Any]] = []
    with connect(api_url, token, data_dir) as client:
        page_token: str | None = None
        while len(found) < limit:
            page = call(client, "GET", f"/api/v1/threads/{thread_id}/messages", params={
                "page_size": min(100, limit - len(found)), **({"page_token": page_token} if page_token else {})})
            found += page["items"]
            page_token = page.get("next_page_token")
            if not page_token:
                break
    print_table(messages_table(found))


@app.command("unacked")
def unacked(
    thread_id: Annotated[str | None, typer.Option("--thread", metavar="THREAD_ID",
                                                  help="Only this thread's.")] = None,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Messages sent to you that you have not acknowledged, oldest first."""
    with connect(api_url, token, data_dir) as client:
        page = call(client, "GET", "/api/v1/me/unacked-messages",
                    params={"page_size": 100, **({"thread_id": thread_id} if thread_id else {})})
    if not page["items"]:
        console.print("Nothing unacknowledged.")
        return
    print_table(messages_table(page["items"], with_thread=thread_id is None))
    if page.get("next_page_token"):
        console.print("(the 100 oldest; ack them to see more)")


@app.command("ack")
def ack(
    message_ids: Annotated[list[str] | None, typer.Argument(metavar="[MESSAGE_ID]...", show_default=False,
                                                           help="The messages to acknowledge.")] = None,
    all_in: Annotated[str | None, typer.Option("--all-in", metavar="THREAD_ID",
                                               help="Acknowledge everything sent to you in this thread.")] = None,
    api_url: ApiUrlOption = DEFAULT_URL, token: TokenOption = None, data_dir: DataDirOption = None,
) -> None:
    """Acknowledge messages sent to you (acknowledging twice changes nothing)."""
    if not message_ids and not all_in:
        fail("no messages given", "pass message ids, or --all-in THREAD_ID")
    with connect(api_url, token, data_dir) as client:
        ids = list(message_ids or [])
        if all_in:
            ids += [m["id"] for m in call(client, "GET", "/api/v1/me/unacked-messages",
                                          params={"thread_id": all_in, "page_size": 100})["items"]]
        acked = call(client, "POST", "/api/v1/me/ack", json={"message_ids": ids})["acked"] if ids else 0
    console.print(f"Acknowledged {acked} message{'' if acked == 1 else 's'}.")
