"""Where the API commands find the platform and the token, and `agyn login` / `agyn logout`.

Lookup order, for the URL and the token separately:
  1. the command's flags (`--api-url`, `--token`);
  2. the environment (`AGYN_API_URL`, `AGYN_API_TOKEN`);
  3. the client configuration file, `$XDG_CONFIG_HOME/agyn/config.toml` (default `~/.config/agyn/config.toml`,
     written by `agyn login`; `AGYN_CLIENT_CONFIG` names another);
  4. a local platform: `http://127.0.0.1:<AGYN_PORT or 8080>` and the admin token in the data dir
     (`--data-dir`, `AGYN_DATA_DIR`, default `.agyn`).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from agyn.cli.common import DataDirOption, console, fail

ApiUrlOption = Annotated[
    str | None,
    typer.Option("--api-url", metavar="URL", show_default=False,
                 help="The platform's URL (env AGYN_API_URL; then `agyn login`'s; default "
                      "http://127.0.0.1:8080, or AGYN_PORT's port)."),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", metavar="TOKEN", show_default=False,
                 help="API token (env AGYN_API_TOKEN; then `agyn login`'s; default: the admin token in the data "
                      "dir)."),
]


def config_path() -> Path:
    """`$AGYN_CLIENT_CONFIG`, else `$XDG_CONFIG_HOME/agyn/config.toml`, else `~/.config/agyn/config.toml`."""
    if os.environ.get("AGYN_CLIENT_CONFIG"):
        return Path(os.environ["AGYN_CLIENT_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "agyn" / "config.toml"


def read_config() -> dict[str, str]:
    path = config_path()
    try:
        document = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {error}", "fix it, or run `agyn login` again")
    return {k: v for k, v in document.items() if k in ("url", "token") and isinstance(v, str)}


def write_config(url: str, token: str) -> Path:
    """The client configuration, mode 0600 from its creation (it holds a token)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    text = ("# written by `agyn login`; the agyn CLI reads it after its flags and AGYN_API_URL / AGYN_API_TOKEN\n"
            f"url = {json.dumps(url)}\ntoken = {json.dumps(token)}\n")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # an existing file keeps its mode on open
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    return path


def _local() -> tuple[str, Path]:
    """The URL and data dir of a platform started here (`agyn serve`), from the same settings it reads."""
    from pydantic import ValidationError

    from agyn.settings import Settings

    try:
        settings = Settings()
    except (ValidationError, ValueError):
        return "http://127.0.0.1:8080", Path(os.environ.get("AGYN_DATA_DIR", ".agyn"))
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.port}", settings.data_dir


@dataclass(frozen=True)
class Connection:
    url: str
    token: str
    token_source: str


def resolve(api_url: str | None, token: str | None, data_dir: Path | None, *, use_saved: bool = True
            ) -> Connection:
    """The platform and token to use, in the documented order (an explicit --data-dir skips the saved file)."""
    saved: dict[str, str] | None = None if use_saved else {}

    def from_file(key: str) -> str | None:
        nonlocal saved
        if saved is None:
            saved = read_config()
        return saved.get(key)

    local_url, local_data_dir = _local()
    url = api_url or os.environ.get("AGYN_API_URL") or from_file("url") or local_url
    if token:
        return Connection(url.rstrip("/"), token, "--token")
    if os.environ.get("AGYN_API_TOKEN"):
        return Connection(url.rstrip("/"), os.environ["AGYN_API_TOKEN"], "AGYN_API_TOKEN")
    if data_dir is None and from_file("token"):
        return Connection(url.rstrip("/"), from_file("token") or "", str(config_path()))
    token_file = (data_dir or local_data_dir) / "admin-token"
    if not token_file.is_file():
        fail("no API token given", f"pass --token, set AGYN_API_TOKEN, run `agyn login`, or run where "
                                   f"{token_file} is (a local `agyn serve` writes it)")
    return Connection(url.rstrip("/"), token_file.read_text().strip(), str(token_file))


def api_client(api_url: str | None, token: str | None, data_dir: Path | None) -> httpx.Client:
    connection = resolve(api_url, token, data_dir)
    return httpx.Client(base_url=connection.url, headers={"Authorization": f"Bearer {connection.token}"},
                        timeout=30)


def call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """The response's JSON; a transport error or an error status is one line and exit 1."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.HTTPError as error:
        fail(f"cannot reach {client.base_url}: {error}",
             "start the platform with `agyn serve`, or pass --api-url (or AGYN_API_URL)")
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        fail(f"{method} {path} failed ({response.status_code}): {detail}")
    return response.json() if response.content else None


def every(client: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    """Every item of a paginated collection."""
    items: list[dict[str, Any]] = []
    page_token: str | None = None
    while True:
        page = call(client, "GET", path, params={**params, "page_size": 100,
                                                 **({"page_token": page_token} if page_token else {})})
        items.extend(page["items"])
        page_token = page.get("next_page_token")
        if not page_token:
            return items


def login(
    api_url: ApiUrlOption = None,
    token: Annotated[str | None, typer.Option(
        "--token", metavar="TOKEN", show_default=False,
        help="The API token to save; `-` reads it from standard input. Default: AGYN_API_TOKEN, else the admin "
             "token of the local platform's data dir.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Save a platform URL and API token for every later `agyn` command, wherever it runs.

    Checks them with `GET /me`, then writes `~/.config/agyn/config.toml` (or `$XDG_CONFIG_HOME/agyn/config.toml`),
    mode 0600. Flags and AGYN_API_URL / AGYN_API_TOKEN still win over it.
    """
    if token == "-":
        token = sys.stdin.readline().strip()
        if not token:
            fail("no token on standard input")
    if api_url is None and os.environ.get("AGYN_API_URL") is None:
        api_url = _local()[0]  # the saved file's URL is what is being replaced
    connection = resolve(api_url, token, data_dir, use_saved=False)
    with httpx.Client(base_url=connection.url, headers={"Authorization": f"Bearer {connection.token}"},
                      timeout=30) as client:
        me = call(client, "GET", "/me")
    path = write_config(connection.url, connection.token)
    who = me.get("username") or me.get("identity_id")
    console.print(f"Logged in to {connection.url} as {who} (token from {connection.token_source}); saved to {path} "
                  "(mode 0600).", highlight=False, soft_wrap=True, markup=False)


def logout() -> None:
    """Forget the URL and token `agyn login` saved (the token itself stays valid: `agyn token revoke` ends it)."""
    path = config_path()
    if not path.exists():
        console.print(f"Not logged in ({path} does not exist).", highlight=False, markup=False, soft_wrap=True)
        return
    path.unlink()
    console.print(f"Removed {path}.", highlight=False, markup=False, soft_wrap=True)
