"""`agyn runs <conversation>`: the run timeline of a conversation (`GET /api/v1/conversations/{id}/runs`) —
each run of its agents with the messages, LLM calls, tool calls and summaries, in order."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape

from agyn.cli.common import DataDirOption, console, plural
from agyn.cli.config import ApiUrlOption, TokenOption, api_client, call

PAGE_SIZE = 100
PREVIEW = 160


def _seconds(milliseconds: float | None) -> str:
    return "running" if milliseconds is None else f"{milliseconds / 1000:.2f} s"


def _line(text: str | None, width: int = PREVIEW) -> str:
    flat = " ".join((text or "").split())
    return escape(flat if len(flat) <= width else flat[: width - 1] + "…")


def _offset(event: dict[str, Any], start: datetime | None) -> str:
    at = event.get("start_time")
    if start is None or not at:
        return "        "
    return f"+{(datetime.fromisoformat(at) - start).total_seconds():6.2f}s"


def _event(event: dict[str, Any]) -> str:
    kind = event["type"]
    failed = f" [red]✗ {_line(event.get('error') or 'failed', 80)}[/]" if event.get("status") == "error" else ""
    if kind == "message":
        return f"[cyan]message[/]  {_line(event.get('text'))}"
    if kind == "llm_call":
        usage = event.get("usage") or {}
        tokens = f"{usage.get('input_tokens') or 0} in / {usage.get('output_tokens') or 0} out"
        calls = ", ".join(f"{c['name']}({_line(c['arguments'], 60)})" for c in event.get("tool_calls") or [])
        said = f" → {_line(event.get('output'))}" if event.get("output") else ""
        asked = f" → calls {calls}" if calls else ""
        return (f"[magenta]LLM {escape(event.get('model') or '?')}[/]  {len(event.get('input') or [])} items, "
                f"{tokens}, {_seconds(event.get('duration_ms'))}{said}{asked}{failed}")
    if kind == "tool_execution":
        return (f"[yellow]tool {escape(event.get('tool') or '?')}[/]  {_line(event.get('input'), 80)} → "
                f"{_line(event.get('output'))}  {_seconds(event.get('duration_ms'))}{failed}")
    return f"[blue]summarization[/]  {_line(event.get('output'))}  {_seconds(event.get('duration_ms'))}{failed}"


def print_run(number: int, run: dict[str, Any]) -> None:
    start = datetime.fromisoformat(run["start_time"]) if run.get("start_time") else None
    colour = {"ok": "green", "error": "red"}.get(run["status"], "yellow")
    when = start.strftime("%Y-%m-%d %H:%M:%S") if start else "?"
    console.print(f"[bold]Run {number}[/]  {when}  [{colour}]{run['status']}[/]  {_seconds(run.get('duration_ms'))}"
                  f"  [dim]trace {run['trace_id']}[/]", highlight=False)
    for event in run["events"]:
        console.print(f"  [dim]{_offset(event, start)}[/]  {_event(event)}", highlight=False, soft_wrap=True)
    if run.get("error"):
        console.print(f"  [red]failed: {_line(run['error'])}[/]", highlight=False)


def runs(
    conversation: Annotated[str, typer.Argument(metavar="CONVERSATION", help="The conversation's id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON, for scripts.")] = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show what the agents did in a conversation, run by run (one per batch of messages they handled):
    each message received, LLM call (model, input items, tokens, answer or tool calls), tool execution
    (input, output, error) and summarization, with timings. For those who may read the conversation."""
    found: list[dict[str, Any]] = []
    with api_client(api_url, token, data_dir) as client, console.status("Reading the runs…") as status:
        page_token: str | None = None
        while True:
            page = call(client, "GET", f"/api/v1/conversations/{conversation}/runs",
                        params={"page_size": PAGE_SIZE, **({"page_token": page_token} if page_token else {})})
            found += page["items"]
            status.update(f"Reading the runs… {len(found)}")
            page_token = page.get("next_page_token")
            if not page_token:
                break
    if as_json:
        console.print_json(json.dumps(found))
        return
    if not found:
        console.print("No runs yet: the conversation's agents have not handled a message (or their spans have "
                      "not arrived).")
        return
    for number, run in enumerate(found, 1):
        print_run(number, run)
    console.print(f"[dim]{plural(len(found), 'run')}[/]", highlight=False)
