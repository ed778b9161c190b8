"""`agyn usage`: an organization's usage (tokens, requests, compute) summed, as a table (`GET /api/v1/usage`)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Column, Table

from agyn.cli.common import DataDirOption, console, fail, wide_console
from agyn.cli.config import ApiUrlOption, TokenOption, api_client, call, every
from agyn.cli.orgs import organization

app = typer.Typer(help="Show an organization's usage: tokens, requests and compute, summed.",
                  invoke_without_command=True, no_args_is_help=False)

_AGO = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def moment(text: str | None, option: str) -> str | None:
    """ISO 8601 (UTC when no offset is given) or an age such as `30m`, `24h`, `7d`."""
    if text is None:
        return None
    age = _AGO.match(text.strip())
    if age:
        return (datetime.now(UTC) - timedelta(**{_UNITS[age.group(2)]: int(age.group(1))})).isoformat()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        fail(f"{option} {text!r} is neither a time (2026-11-25T10:00) nor an age (30m, 24h, 7d)")
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def amount(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.6f}".rstrip("0")


@app.callback()
def usage(
    org: Annotated[str | None, typer.Option("--org", metavar="ORG", show_default=False,
                                            help="The organization's name or id (default: the only one you "
                                                 "see).")] = None,
    start: Annotated[str | None, typer.Option(metavar="WHEN", show_default=False,
                                              help="From: a time (ISO 8601, UTC) or an age (30m, 24h, 7d); "
                                                   "default 30 days before --end.")] = None,
    end: Annotated[str | None, typer.Option(metavar="WHEN", show_default=False,
                                            help="Until: a time or an age; default now.")] = None,
    unit: Annotated[Literal["TOKENS", "COUNT", "CORE_SECONDS", "GB_SECONDS"] | None, typer.Option(
        show_default=False, help="Only this unit (default: each unit apart).")] = None,
    group_by: Annotated[str, typer.Option("--group-by", metavar="LABEL",
                                          help="Sum per value of a label (model, kind, identity_id, thread_id, "
                                               "status, ...); `none` for one sum per unit.")] = "model",
    granularity: Annotated[Literal["hour", "day"] | None, typer.Option(
        show_default=False, help="Sum per hour or per day (UTC).")] = None,
    label: Annotated[list[str] | None, typer.Option(
        "--label", metavar="NAME=VALUE", show_default=False,
        help="Only records with this label value (repeatable), e.g. --label kind=output.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")] = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show an organization's usage (members of the organization may): LLM tokens by kind (input,
    cached, output), requests, compute — summed per unit, per label value and per period."""
    filters: dict[str, str] = {}
    for item in label or []:
        name, equals, value = item.partition("=")
        if not equals or not name:
            fail(f"--label {item!r}: use NAME=VALUE, e.g. --label kind=output")
        filters[name] = value
    with api_client(api_url, token, data_dir) as client:
        if org is not None:
            found = organization(client, org)
        else:
            visible = every(client, "/api/v1/organizations")
            if len(visible) != 1:
                fail("which organization?", "pass --org NAME (see `agyn orgs list`)")
            found = visible[0]
        params: dict[str, Any] = {"organization_id": found["id"], **filters}
        chosen: dict[str, str | None] = {"start": moment(start, "--start"), "end": moment(end, "--end"),
                                         "unit": unit, "granularity": granularity}
        params.update({key: value for key, value in chosen.items() if value is not None})
        grouped = group_by.lower() != "none"
        if grouped:
            params["group_by"] = group_by
        report = call(client, "GET", "/api/v1/usage", params=params)
    if as_json:
        console.print_json(json.dumps(report))
        return
    columns: list[Column | str] = []
    if granularity:
        columns.append(Column("Period (UTC)", no_wrap=True))
    columns.append("Unit")
    if grouped:
        columns.append(group_by)
    columns.append(Column("Value", justify="right"))
    period = f"{report['start'][:16]} – {report['end'][:16]}".replace("T", " ")
    table = Table(*columns, title=f"Usage of {escape(found['name'])}, {period} UTC")
    for bucket in report["buckets"]:
        row = []
        if granularity:
            row.append(str(bucket["start"])[:16].replace("T", " "))
        row.append(bucket["unit"])
        if grouped:
            row.append(escape(bucket["group"] or "—"))
        row.append(amount(bucket["value"]))
        table.add_row(*row)
    if not report["buckets"]:
        console.print(f"No usage recorded for {escape(found['name'])} between {period} UTC.", highlight=False)
        return
    wide_console().print(table)
