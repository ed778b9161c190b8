"""The `agyn` command line: run the platform, manage its database, talk to a running server."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Column, Table

from agyn import __version__
from agyn.cli import (
    authz,
    chat,
    conversations,
    daemon,
    execution,
    mcp,
    orgs,
    runs,
    runtime,
    threads,
    usage,
    users,
    web,
)
from agyn.cli import help as readable_help
from agyn.cli.common import DataDirOption, console, fail, plural, wide_console
from agyn.cli.config import ApiUrlOption, TokenOption, api_client, call, every, login, logout
from agyn.settings import Settings
from agyn.testllm.cli import app as testllm_app

readable_help.install()
app = typer.Typer(
    name="agyn",
    help="Agyn: AI agents in conversations, declared as code. Run `agyn serve` to start the platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=readable_help.MARKUP_MODE,
    add_completion=False,
)
db_app = typer.Typer(help="Manage the platform database schema.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)
token_app = typer.Typer(help="Manage your API tokens on a running platform.", no_args_is_help=True)
secrets_app = typer.Typer(help="Manage the encryption of secret values at rest.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(token_app, name="token")
app.add_typer(secrets_app, name="secrets")
provider_app = typer.Typer(help="The Terraform provider (agynio/agyn).", no_args_is_help=True)
app.add_typer(provider_app, name="provider")
app.add_typer(testllm_app, name="testllm")
app.add_typer(threads.app, name="threads")
app.add_typer(conversations.app, name="conversations")
app.add_typer(authz.app, name="authz")
app.add_typer(web.app, name="web")
app.add_typer(mcp.app, name="mcp")


def database_problem(error: Exception) -> str:
    """The driver's own one-line reason (e.g. 'database "x" does not exist'), without SQLAlchemy's wrapping."""
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return reason[0] if reason else type(error).__name__


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before the platform starts, so a taken port is a clear error."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}",
             "choose another --port (or AGYN_PORT), or stop the process using it")
    return sock


def check_database(settings: Settings) -> None:
    """Before serving: a server database must be reachable and at the code's schema (SQLite migrates itself)."""
    if settings.effective_database_url.startswith("sqlite"):
        return
    from sqlalchemy.exc import SQLAlchemyError

    from agyn.kit.db import Database
    from agyn.migrations import SchemaOutOfDate, check_schema

    database = Database(settings.effective_database_url)

    async def run() -> None:
        try:
            await check_schema(database)
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except SchemaOutOfDate as error:
        fail(str(error))
    except (OSError, SQLAlchemyError) as error:
        fail(f"cannot use the database: {database_problem(error)}",
             "check AGYN_DATABASE_URL and that the database server is running")


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except (ValidationError, ValueError) as error:
        first = error.errors()[0] if isinstance(error, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first else ""
        reason = first["msg"].removeprefix("Value error, ") if first else str(error)
        fail(f"invalid setting {where}: {reason}" if where else f"invalid settings: {reason}",
             "check the AGYN_* environment variables and the config file")


@app.command()
def version() -> None:
    """Print the agyn version."""
    console.print(f"agyn {__version__}")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (env AGYN_HOST; default 127.0.0.1).",
                                             show_default=False)] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (env AGYN_PORT; default 8080).",
                                             show_default=False)] = None,
    data_dir: DataDirOption = None,
    detach: Annotated[bool, typer.Option(
        "--detach", help="Run in the background: return once the platform answers, log to <data dir>/agyn.log, "
                         "keep its pid in <data dir>/agyn.pid; `agyn stop` stops it.")] = False,
) -> None:
    """Run the all-in-one platform process: the HTTP API of every module.

    With no configuration it uses a SQLite database in the data dir and the embedded
    authorization engine. On first start it creates the cluster admin and prints its API token.
    In the foreground Ctrl-C stops it; with `--detach`, `agyn stop` does.
    """
    settings = load_settings(host=host, port=port, data_dir=data_dir)
    if detach and daemon.already_running(settings.data_dir.resolve()):
        return
    sock = listen(settings.host, settings.port)
    if detach:
        sock.close()
        check_database(settings)
        daemon.serve_detached(settings)
        return
    check_database(settings)

    import uvicorn

    from agyn.app import PlatformServer, create_app
    from agyn.kit.logging import configure_logging

    configure_logging(settings.log_level, settings.log_format)
    console.print(f"[bold]agyn {__version__}[/] serving on http://{settings.host}:{settings.port} "
                  f"(data dir {settings.data_dir.resolve()})", highlight=False)
    server = PlatformServer(uvicorn.Config(create_app(settings), host=settings.host, port=settings.port,
                                           log_config=None, access_log=False, lifespan="on"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    except SystemExit as exit_:
        if exit_.code:  # uvicorn exits when the application's start-up failed; it logged the cause
            fail("the platform failed to start; the log above says why")
        raise
    finally:
        sock.close()
        daemon.forget_pid(settings.data_dir.resolve())


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDirOption = None) -> None:
    """Apply pending schema migrations to the configured database."""
    from sqlalchemy.exc import SQLAlchemyError

    from agyn import migrations
    from agyn.kit.db import Database

    settings = load_settings(data_dir=data_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> tuple[str | None, str | None]:
        database = Database(settings.effective_database_url)
        try:
            before = await migrations.current_revision(database)
            await migrations.upgrade(database)
            return before, await migrations.current_revision(database)
        finally:
            await database.dispose()

    with console.status("Applying migrations..."):
        try:
            before, after = asyncio.run(run())
        except (OSError, SQLAlchemyError) as error:
            fail(f"cannot use the database: {database_problem(error)}",
                 "check AGYN_DATABASE_URL and that the database server is running")
    if before == after:
        console.print(f"Database schema is up to date (revision {after}).")
    else:
        console.print(f"Database schema upgraded from {before or 'empty'} to {after}.")


@db_app.command("revision")
def db_revision(message: Annotated[str, typer.Argument(help="What the schema change is, e.g. 'agents'.")]) -> None:
    """For developers: write the next migration from the difference between the models and the
    schema (computed on a scratch SQLite database)."""
    from agyn import migrations

    path = asyncio.run(migrations.new_revision(message))
    console.print(f"Wrote {path}; read it before committing.")


@config_app.command("show")
def config_show(data_dir: DataDirOption = None) -> None:
    """Print the effective settings as JSON, with every secret masked."""
    settings = load_settings(data_dir=data_dir)
    console.print_json(json.dumps(settings.masked()))


@secrets_app.command("rotate-key")
def secrets_rotate_key(
    data_dir: DataDirOption = None,
    new_key: Annotated[str | None, typer.Option(
        "--new-key", show_default=False,
        help="The new key: base64 of 32 random bytes (e.g. `openssl rand -base64 32`). Required when the key "
             "comes from AGYN_ENCRYPTION_KEY; by default a random key is generated into the data dir.")] = None,
) -> None:
    """Re-encrypt every stored secret value under a new encryption key, then make it the current key.

    Stop the platform first: the command works on its database (AGYN_DATABASE_URL, or the SQLite
    file in the data dir) and must be its only writer. Every write-only value the platform stores
    (secret values, provider tokens, LLM credentials, ENV values) is re-encrypted in one database
    transaction: all or nothing.

    With the key in the data dir, the old key is kept as `encryption-key.previous-<id>` to read
    backups taken before, and an interrupted run is finished by running the command again.

    With AGYN_ENCRYPTION_KEY, pass --new-key; the command prints what to set before starting the
    platform again (if interrupted, run it again with the same --new-key).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from sqlalchemy.exc import SQLAlchemyError

    from agyn.kit.crypto import key_id
    from agyn.kit.db import Database
    from agyn.migrations import SchemaOutOfDate
    from agyn.rotation import KeyRotation, Reencrypted, RotationError

    settings = load_settings(data_dir=data_dir)
    try:
        rotation = KeyRotation.plan(settings, new_key)
    except RotationError as error:
        fail(str(error))

    async def run(progress: Progress) -> Reencrypted:
        task = progress.add_task("Re-encrypting", total=None)
        database = Database(settings.effective_database_url)
        try:
            return await rotation.run(database, lambda done, total: progress.update(task, completed=done, total=total))
        finally:
            await database.dispose()

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console,
                  transient=True) as progress:
        try:
            result = asyncio.run(run(progress))
        except (RotationError, SchemaOutOfDate) as error:
            fail(str(error))
        except (OSError, SQLAlchemyError) as error:
            fail(f"cannot use the database: {database_problem(error)}",
                 "check AGYN_DATABASE_URL and that the database server is running")
    console.print(f"Re-encrypted {plural(result.values, 'value')} in {plural(result.objects, 'object')}: key "
                  f"{key_id(rotation.new)} replaces key {key_id(rotation.current)}.", highlight=False)
    if rotation.files is not None:
        console.print(f"The new key is current in {rotation.files.path}; the old one is kept in "
                      f"{rotation.files.previous_path(key_id(rotation.current))} to read backups taken before.",
                      highlight=False, soft_wrap=True)
    else:
        console.print("Set these before starting the platform again (the previous keys only read values "
                      "written before, e.g. in backups):", highlight=False)
        for name, value in rotation.settings_to_configure().items():
            console.print(f"  {name}={value}", highlight=False, soft_wrap=True, markup=False)


@provider_app.command("install")
def provider_install(
    mirror: Annotated[Path | None, typer.Option(
        "--mirror", show_default=False,
        help="Filesystem mirror directory (default ~/.terraform.d/plugins, which Terraform searches with no "
             "CLI configuration).")] = None,
) -> None:
    """Write the Terraform provider into a filesystem mirror, so `terraform init` finds it offline."""
    from agyn_provider.install import IMPLIED_MIRROR, install, version

    path = install(mirror or IMPLIED_MIRROR)
    console.print(f"Wrote {path}", highlight=False, soft_wrap=True)
    console.print("Use it with:\n"
                  "  terraform {\n"
                  "    required_providers {\n"
                  f'      agyn = {{ source = "agynio/agyn", version = "{version()}" }}\n'
                  "    }\n"
                  "  }", highlight=False, markup=False)
    if mirror is not None:
        console.print(f"and a CLI configuration (TF_CLI_CONFIG_FILE) whose provider_installation has "
                      f'filesystem_mirror {{ path = "{mirror.resolve()}" }}.', highlight=False, markup=False,
                      soft_wrap=True)


# --- API client commands (where they find the platform and token: agyn.cli.config) ------------


def _when(value: str | None) -> str:
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M") if value else "never"


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="A name that says what the token is for.")],
    expires_at: Annotated[str | None, typer.Option(metavar="TIME", show_default=False,
                                                   help="Expiry, RFC 3339 (e.g. 2027-01-01T00:00:00Z).")] = None,
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Create an API token for yourself; its value is printed once."""
    with api_client(api_url, token, data_dir) as client:
        created = call(client, "POST", "/api/v1/api-tokens", json={"name": name, "expires_at": expires_at})
    console.print(f"Created token [bold]{escape(created['name'])}[/] ({created['id']}). Store it now; it is not shown "
                  "again:", highlight=False)
    console.print(created["token"], highlight=False, soft_wrap=True)


@token_app.command("list")
def token_list(
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """List your API tokens (their values are never shown)."""
    # the ID is always shown whole: `agyn token revoke` needs it
    table = Table(Column("ID", no_wrap=True, min_width=36), "Name", "Prefix", "Created", "Expires", "Last used")
    with api_client(api_url, token, data_dir) as client:
        for item in every(client, "/api/v1/api-tokens"):
            table.add_row(item["id"], escape(item["name"]), f"agyn_{item['token_prefix']}…",
                          _when(item["created_at"]), _when(item["expires_at"]), _when(item["last_used_at"]))
    wide_console().print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The id of the token to revoke (see `agyn token list`).")],
    api_url: ApiUrlOption = None,
    token: TokenOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Revoke one of your API tokens; it stops working at once."""
    with api_client(api_url, token, data_dir) as client:
        call(client, "DELETE", f"/api/v1/api-tokens/{token_id}")
    console.print(f"Revoked token {token_id}.")


# commands of their own modules, listed after those above in `agyn --help`
app.command("stop")(daemon.stop)
app.command("login")(login)
app.command("logout")(logout)
app.add_typer(users.app, name="users")
app.command("orchestrator")(execution.orchestrator)
app.add_typer(execution.runner_app, name="runner")
app.add_typer(orgs.app, name="orgs")
app.add_typer(usage.app, name="usage")
app.command("agent-runtime")(runtime.agent_runtime)
app.command("chat")(chat.chat)
app.command("runs")(runs.runs)


if __name__ == "__main__":  # `python -m agyn.cli.main`: how `agyn serve --detach` starts the server
    app(prog_name="agyn")
