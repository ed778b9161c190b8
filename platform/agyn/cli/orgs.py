"""`agyn orgs create|list|members|add-member`: organizations and their members (`/api/v1/organizations`,
`/api/v1/memberships`)."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any, Literal

import httpx
import typer
from rich.markup import escape
from rich.table import Column, Table

from agyn.cli.common import DataDirOption, console, fail, wide_console
from agyn.cli.config import ApiUrlOption, TokenOption, api_client, call, every

app = typer.Typer(help="Manage organizations and their members.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]
OrgArgument = Annotated[str, typer.Argument(metavar="ORG", help="The organization's name or id.")]


def _is_id(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def organization(client: httpx.Client, name_or_id: str) -> dict[str, Any]:
    if _is_id(name_or_id):
        found: dict[str, Any] = call(client, "GET", f"/api/v1/organizations/{name_or_id}")
        return found
    matches = every(client, "/api/v1/organizations", name=name_or_id)
    if not matches:
        fail(f"no organization named {name_or_id!r} that you can see", "see `agyn orgs list`")
    return matches[0]


def identity(client: httpx.Client, username_or_id: str) -> str:
    if _is_id(username_or_id):
        return username_or_id
    matches = every(client, "/api/v1/users", username=username_or_id)
    if not matches:
        fail(f"no user named {username_or_id!r}", "see `agyn users list`, or create one with `agyn users create`")
    return str(matches[0]["id"])


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an organization; you become its owner."""
    with api_client(api_url, token, data_dir) as client:
        created = call(client, "POST", "/api/v1/organizations", json={"name": name})
    if as_json:
        console.print_json(json.dumps(created))
    else:
        console.print(f"Created organization [bold]{escape(created['name'])}[/] ({created['id']}).", highlight=False)


@app.command("list")
def list_(
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List the organizations you can see."""
    with api_client(api_url, token, data_dir) as client:
        organizations = every(client, "/api/v1/organizations")
    if as_json:
        console.print_json(json.dumps(organizations))
        return
    table = Table(Column("ID", no_wrap=True, min_width=36), "Name", "Created")
    for org in organizations:
        table.add_row(org["id"], escape(org["name"]), str(org.get("created_at", ""))[:16].replace("T", " "))
    wide_console().print(table)


@app.command("members")
def members(
    org: OrgArgument,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List an organization's members (users by username when you may see them)."""
    with api_client(api_url, token, data_dir) as client:
        found = organization(client, org)
        memberships = every(client, "/api/v1/memberships", organization_id=found["id"])
        names = {}
        for membership in memberships:
            response = client.get(f"/api/v1/users/{membership['identity_id']}")
            if response.status_code == 200:  # agents and apps are members too; other users may be hidden
                names[membership["identity_id"]] = response.json()["username"]
    if as_json:
        console.print_json(json.dumps([{**m, "username": names.get(m["identity_id"])} for m in memberships]))
        return
    table = Table(Column("Identity", no_wrap=True, min_width=36), "Username", "Role", "Status")
    for membership in memberships:
        table.add_row(membership["identity_id"], escape(names.get(membership["identity_id"], "")),
                      membership["role"], membership["status"])
    wide_console().print(table)


@app.command("add-member")
def add_member(
    org: OrgArgument,
    user: Annotated[str, typer.Argument(metavar="USER", help="A username or an identity id.")],
    role: Annotated[Literal["member", "owner"], typer.Option(help="The member's role.")] = "member",
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Add a member (a cluster admin adds them at once; an owner invites them)."""
    with api_client(api_url, token, data_dir) as client:
        found = organization(client, org)
        membership = call(client, "POST", "/api/v1/memberships",
                          json={"organization_id": found["id"], "identity_id": identity(client, user), "role": role})
    console.print(f"Added {escape(user)} to {escape(found['name'])} as {membership['role']} ({membership['status']}).",
                  highlight=False)
