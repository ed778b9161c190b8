"""`agyn users create|list`: the platform's users, for cluster admins (`/api/v1/users`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Column, Table

from agyn.cli.common import DataDirOption, console, wide_console
from agyn.cli.config import ApiUrlOption, TokenOption, api_client, call, every

app = typer.Typer(help="Manage users (cluster admins).", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]


@app.command("create")
def create(
    username: Annotated[str, typer.Argument(help="Lower-case letters, digits, _ and -, at most 32.")],
    name: Annotated[str | None, typer.Option(metavar="TEXT", show_default=False, help="Display name.")] = None,
    email: Annotated[str | None, typer.Option(metavar="EMAIL", show_default=False)] = None,
    oidc_subject: Annotated[str | None, typer.Option(
        metavar="SUBJECT", show_default=False,
        help="The user's subject at the OIDC issuer, which links their logins to this user (default "
             "local|USERNAME, for a user who signs in with API tokens only).")] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user a cluster admin.")] = False,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create a user; their id is what memberships and roles refer to."""
    body = {"username": username, "oidc_subject": oidc_subject or f"local|{username}", "name": name,
            "email": email, "cluster_role": "admin" if admin else "none"}
    with api_client(api_url, token, data_dir) as client:
        user = call(client, "POST", "/api/v1/users", json={k: v for k, v in body.items() if v is not None})
    if as_json:
        console.print_json(json.dumps(user))
    else:
        console.print(f"Created user [bold]{escape(user['username'])}[/] ({user['id']}).", highlight=False)


def users_table(users: list[dict[str, Any]]) -> Table:
    table = Table(Column("ID", no_wrap=True, min_width=36), "Username", "Name", "Email", "Cluster role")
    for user in users:
        table.add_row(user["id"], escape(user["username"]), escape(user["name"]), escape(user["email"]),
                      user["cluster_role"])
    return table


@app.command("list")
def list_(
    username: Annotated[str | None, typer.Option(metavar="USERNAME", show_default=False,
                                                 help="Only this user.")] = None,
    as_json: JsonOption = False,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List users."""
    with api_client(api_url, token, data_dir) as client:
        users = every(client, "/api/v1/users", **({"username": username} if username else {}))
    if as_json:
        console.print_json(json.dumps(users))
    else:
        wide_console().print(users_table(users))
