"""The `agyn` command, run as a real process (SPEC §8): serve, bootstrap, tokens, config, db, errors.

One server (fresh SQLite data dir) is shared by the module. Start-up time is measured and printed
(run with `-s` to see it), never asserted: performance is the benchmarks' business (SPEC §9).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from agyn import __version__, migrations
from tests.conftest import POSTGRES_URL

AGYN = Path(sys.executable).with_name("agyn")
TOKEN_PATTERN = re.compile(r"agyn_[0-9A-Za-z]{44}")
HEALTHY_TIMEOUT = 90.0  # generous: only "it became healthy" is asserted, never how fast
COMMAND_TIMEOUT = 60.0


NO_CLIENT_CONFIG = "/nonexistent/agyn-client-config.toml"
"""No `agyn login` file of the machine's user applies unless a test writes one."""


def cli_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any AGYN_* setting, so only what a test sets applies."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGYN_")}
    env.update(NO_COLOR="1", COLUMNS="80", PYTHONUNBUFFERED="1", AGYN_CLIENT_CONFIG=NO_CLIENT_CONFIG)
    env.update(extra)
    return env


def agyn(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = COMMAND_TIMEOUT
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AGYN), *args], cwd=cwd, env=env or cli_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """A failed command's stderr: exactly one line, `error: ...`, and a non-zero exit."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def stop_process(process: subprocess.Popen[Any], signal_number: int = signal.SIGINT, timeout: float = 20) -> int:
    """Signal a process (Ctrl+C by default, as a person would), kill it if it outlives `timeout`;
    returns its exit code."""
    if process.poll() is None:
        process.send_signal(signal_number)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Serve:
    """`agyn serve` in the background, its output captured in files."""

    def __init__(self, data_dir: Path, *, cwd: Path, env: dict[str, str] | None = None, port: int | None = None):
        self.data_dir, self.port = data_dir, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._stdout = cwd / f"serve-{self.port}.stdout"
        self._stderr = cwd / f"serve-{self.port}.stderr"
        with self._stdout.open("w") as out, self._stderr.open("w") as err:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                [str(AGYN), "serve", "--data-dir", str(data_dir), "--port", str(self.port)],
                cwd=cwd, env=env or cli_env(), stdout=out, stderr=err)

    @property
    def stdout(self) -> str:
        return self._stdout.read_text()

    @property
    def stderr(self) -> str:
        return self._stderr.read_text()

    def wait_healthy(self) -> float:
        """Seconds from launch until `/healthz` answered 200."""
        deadline = self.started_at + HEALTHY_TIMEOUT
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"agyn serve exited with {self.process.returncode}:\n{self.stdout}\n{self.stderr}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return time.perf_counter() - self.started_at
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        raise AssertionError(f"agyn serve not healthy after {HEALTHY_TIMEOUT} s:\n{self.stdout}\n{self.stderr}")

    def stop(self) -> int:
        """Ctrl+C, as a person would; returns the exit code."""
        return stop_process(self.process)


def me(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Serve]:
    """One platform on a fresh SQLite data dir for the whole module."""
    serve = Serve(workdir / "data", cwd=workdir)
    try:
        elapsed = serve.wait_healthy()
        print(f"\n[measured] agyn serve, first start on a fresh SQLite data dir: /healthz answered after "
              f"{elapsed:.2f} s")
        yield serve
    finally:
        serve.stop()


def admin_token(server: Serve) -> str:
    return (server.data_dir / "admin-token").read_text().strip()


# --- version and help ----------------------------------------------------------------------------


def test_version(workdir: Path) -> None:
    result = agyn("version", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"agyn {__version__}"


HELP_CASES: list[tuple[list[str], list[str]]] = [
    (["--help"], ["agyn serve", "version", "serve", "db", "config", "token", "Manage your API tokens",
                  "database schema", "effective configuration"]),
    (["serve", "--help"], ["all-in-one platform", "SQLite", "admin", "--host", "--port", "--data-dir",
                           "env AGYN_PORT; default 8080", "env AGYN_HOST; default 127.0.0.1",
                           "env AGYN_DATA_DIR; default .agyn"]),
    (["db", "--help"], ["upgrade", "database schema"]),
    (["db", "upgrade", "--help"], ["pending schema migrations", "--data-dir"]),
    (["config", "--help"], ["show", "effective configuration"]),
    (["config", "show", "--help"], ["JSON", "secret masked", "--data-dir"]),
    (["token", "--help"], ["create", "list", "revoke", "running platform"]),
    (["token", "create", "--help"], ["printed once", "--expires-at", "RFC 3339", "--api-url", "AGYN_API_URL",
                                     "--token", "AGYN_API_TOKEN", "default: the admin token in the data dir"]),
    (["token", "list", "--help"], ["never shown", "--api-url", "--token"]),
    (["token", "revoke", "--help"], ["stops working at once", "agyn token list"]),
    (["version", "--help"], ["version"]),
]


@pytest.fixture(scope="module")
def help_texts(workdir: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every help screen, the processes run side by side to keep the module fast."""
    env = cli_env(COLUMNS="250")
    processes = {" ".join(args): subprocess.Popen([str(AGYN), *args], cwd=workdir, env=env, text=True,
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for args, _ in HELP_CASES}
    results = {}
    for key, process in processes.items():
        stdout, stderr = process.communicate(timeout=COMMAND_TIMEOUT)
        results[key] = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    return results


@pytest.mark.parametrize(("args", "phrases"), HELP_CASES, ids=[" ".join(args) for args, _ in HELP_CASES])
def test_help_explains_each_command(
    help_texts: dict[str, subprocess.CompletedProcess[str]], args: list[str], phrases: list[str]
) -> None:
    result = help_texts[" ".join(args)]
    assert result.returncode == 0, result.stderr
    assert "Usage: agyn" in result.stdout
    for phrase in phrases:
        assert phrase in result.stdout, f"{phrase!r} missing from `agyn {' '.join(args)}`:\n{result.stdout}"


# --- serve: first start, logs, restart -----------------------------------------------------------


def test_first_start_names_the_0600_token_file_when_output_is_not_a_terminal(server: Serve) -> None:
    """stdout here is a pipe (as a log file would be): the token is not printed, its file is named."""
    assert not TOKEN_PATTERN.search(server.stdout), server.stdout
    token_file = server.data_dir / "admin-token"
    assert f"Its API token is in {token_file}" in server.stdout, server.stdout
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((server.data_dir / "agyn.db").stat().st_mode) == 0o600
    response = me(server.url, token_file.read_text().strip())
    assert response.status_code == 200, response.text
    assert response.json()["cluster_role"] == "admin" and response.json()["identity_type"] == "user"


def test_logs_are_json_lines_without_the_token(server: Serve) -> None:
    token = admin_token(server)
    assert me(server.url, token).status_code == 200  # a request that is logged, carrying the token
    stderr = server.stderr
    assert token not in stderr
    assert not TOKEN_PATTERN.search(stderr)
    entries = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    assert entries, "no logs on stderr"
    assert any(entry["message"] == "agyn is ready" for entry in entries)
    assert all({"ts", "level", "logger", "message"} <= entry.keys() for entry in entries)


def test_restart_does_not_bootstrap_again(workdir: Path) -> None:
    data_dir = workdir / "restart-data"
    first = Serve(data_dir, cwd=workdir)
    try:
        first.wait_healthy()
    finally:
        assert first.stop() == 0, first.stderr
    token = (data_dir / "admin-token").read_text().strip()
    assert "First start" in first.stdout and token not in first.stdout
    assert "Traceback" not in first.stderr

    second = Serve(data_dir, cwd=workdir)
    try:
        elapsed = second.wait_healthy()
        print(f"\n[measured] agyn serve, restart on an existing SQLite data dir: /healthz answered after "
              f"{elapsed:.2f} s")
        assert not TOKEN_PATTERN.search(second.stdout), second.stdout
        assert "First start" not in second.stdout
        assert (data_dir / "admin-token").read_text().strip() == token
        assert me(second.url, token).status_code == 200
    finally:
        second.stop()


# --- tokens against the running server -----------------------------------------------------------


def test_token_create_list_revoke(server: Serve, workdir: Path) -> None:
    api = ["--api-url", server.url]
    admin = admin_token(server)
    admin_identity = me(server.url, admin).json()["identity_id"]

    # the admin token is found through --data-dir
    created = agyn("token", "create", "ci [prod] pipeline", *api, "--data-dir", str(server.data_dir), cwd=workdir)
    assert created.returncode == 0, created.stderr
    [token] = TOKEN_PATTERN.findall(created.stdout)
    assert "not shown again" in created.stdout
    assert "ci [prod] pipeline" in created.stdout
    token_id = re.search(r"\(([0-9a-f-]{36})\)", created.stdout).group(1)  # type: ignore[union-attr]
    assert me(server.url, token).json()["identity_id"] == admin_identity

    # --token, AGYN_API_TOKEN and AGYN_API_URL work from anywhere
    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    listings = [
        agyn("token", "list", *api, "--token", admin, cwd=elsewhere),
        agyn("token", "list", *api, cwd=elsewhere, env=cli_env(AGYN_API_TOKEN=admin)),
        agyn("token", "list", cwd=elsewhere, env=cli_env(AGYN_API_TOKEN=token, AGYN_API_URL=server.url)),
    ]
    for listing in listings:
        assert listing.returncode == 0, listing.stderr
        assert token_id in listing.stdout and "ci [prod] pipeline" in listing.stdout
        assert "bootstrap admin token" in listing.stdout
        assert not TOKEN_PATTERN.search(listing.stdout), "a token value was listed"
        assert token not in listing.stdout and admin not in listing.stdout

    revoked = agyn("token", "revoke", token_id, *api, "--token", admin, cwd=elsewhere)
    assert revoked.returncode == 0, revoked.stderr
    assert f"Revoked token {token_id}" in revoked.stdout
    assert me(server.url, token).status_code == 401
    after = agyn("token", "list", *api, "--token", admin, cwd=elsewhere)
    assert token_id not in after.stdout

    again = one_error_line(agyn("token", "revoke", token_id, *api, "--token", admin, cwd=elsewhere))
    assert "404" in again and "not found" in again


def test_token_with_expiry_and_bad_input(server: Serve, workdir: Path) -> None:
    api = ["--api-url", server.url, "--token", admin_token(server)]
    created = agyn("token", "create", "short-lived", "--expires-at", "2099-01-01T00:00:00Z", *api, cwd=workdir)
    assert created.returncode == 0, created.stderr
    listing = agyn("token", "list", *api, cwd=workdir)
    assert "2099-01-01" in listing.stdout
    line = one_error_line(agyn("token", "create", "bad", "--expires-at", "tomorrow", *api, cwd=workdir))
    assert "expires_at" in line
    line = one_error_line(agyn("token", "revoke", "not-a-uuid", *api, cwd=workdir))
    assert "token_id" in line


def test_token_with_a_revoked_or_wrong_token_is_refused(server: Serve, workdir: Path) -> None:
    line = one_error_line(agyn("token", "list", "--api-url", server.url, "--token", "agyn_" + "x" * 44,
                               cwd=workdir))
    assert "401" in line and "invalid, expired or revoked" in line


def test_token_commands_without_a_server(workdir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = one_error_line(agyn("token", "list", "--api-url", url, "--token", "agyn_" + "x" * 44, cwd=workdir))
    assert f"cannot reach {url}" in line
    assert "agyn serve" in line  # the fix


def test_token_commands_without_a_token(workdir: Path) -> None:
    empty = workdir / "no-token-here"
    empty.mkdir(exist_ok=True)
    line = one_error_line(agyn("token", "list", cwd=empty))
    assert "no API token given" in line and "--token" in line and "AGYN_API_TOKEN" in line


# --- config show ---------------------------------------------------------------------------------

SECRETS = {
    "AGYN_ENCRYPTION_KEY": "S2V5VGhhdE11c3ROZXZlckJlUHJpbnRlZDEyMzQ1Njc=",
    "AGYN_DATABASE_URL": "postgresql://agyn:Db-Pa55word-xyz@db.internal:5432/agyn",
    "AGYN_REDIS_URL": "redis://:R3dis-Secret-pw@redis.internal:6379/0",
    "AGYN_OPENFGA__API_TOKEN": "fga-token-Very-Secret",
}
SECRET_VALUES = ["S2V5VGhhdE11c3ROZXZlckJlUHJpbnRlZDEyMzQ1Njc", "Db-Pa55word-xyz", "R3dis-Secret-pw",
                 "fga-token-Very-Secret"]


def test_config_show_masks_secrets(workdir: Path) -> None:
    result = agyn("config", "show", cwd=workdir, env=cli_env(**SECRETS))
    assert result.returncode == 0, result.stderr
    for secret in SECRET_VALUES:
        assert secret not in result.stdout + result.stderr
    shown = json.loads(result.stdout)
    assert shown["encryption_key"] == "**********"
    assert shown["database_url"] == "postgresql+asyncpg://agyn:**********@db.internal:5432/agyn"
    assert shown["redis_url"] == "redis://:**********@redis.internal:6379/0"
    assert shown["openfga"]["api_token"] == "**********"


def test_config_show_masks_a_password_given_as_a_url_parameter(workdir: Path) -> None:
    url = "postgresql://agyn@db.internal/agyn?sslmode=require&password=Qu3ry-Secret"
    result = agyn("config", "show", cwd=workdir, env=cli_env(AGYN_DATABASE_URL=url))
    assert result.returncode == 0, result.stderr
    assert "Qu3ry-Secret" not in result.stdout
    assert json.loads(result.stdout)["database_url"].endswith("sslmode=require&password=**********")


def test_config_show_defaults(workdir: Path) -> None:
    result = agyn("config", "show", "--data-dir", str(workdir / "somewhere"), cwd=workdir)
    shown = json.loads(result.stdout)
    assert shown["port"] == 8080 and shown["host"] == "127.0.0.1"
    assert shown["database_url"] == f"sqlite+aiosqlite:///{(workdir / 'somewhere' / 'agyn.db').resolve()}"
    assert shown["encryption_key"] is None


CONFIG_FILES = {
    "toml": 'port = 9191\nlog_level = "debug"\nencryption_key = "RmlsZVNlY3JldEtleVRoYXRNdXN0Tm90TGVhazEyMzQ="\n'
            '[oidc]\nissuer = "https://idp.example"\naudience = "agyn-file"\n',
    "yaml": 'port: 9191\nlog_level: debug\nencryption_key: "RmlsZVNlY3JldEtleVRoYXRNdXN0Tm90TGVhazEyMzQ="\n'
            'oidc:\n  issuer: https://idp.example\n  audience: agyn-file\n',
}


@pytest.mark.parametrize("kind", list(CONFIG_FILES))
def test_config_show_honours_a_config_file(workdir: Path, kind: str) -> None:
    path = workdir / f"agyn.{kind}"
    path.write_text(CONFIG_FILES[kind])
    result = agyn("config", "show", cwd=workdir, env=cli_env(AGYN_CONFIG_FILE=str(path)))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["port"] == 9191 and shown["log_level"] == "debug"
    assert shown["oidc"]["issuer"] == "https://idp.example" and shown["oidc"]["audience"] == "agyn-file"
    assert shown["encryption_key"] == "**********"
    assert "RmlsZVNlY3JldEtleVRoYXRNdXN0Tm90TGVhazEyMzQ" not in result.stdout
    # the environment beats the file
    overridden = agyn("config", "show", cwd=workdir, env=cli_env(AGYN_CONFIG_FILE=str(path), AGYN_PORT="9292"))
    assert json.loads(overridden.stdout)["port"] == 9292


def test_config_file_errors_are_one_clear_line(workdir: Path) -> None:
    absent = workdir / "[staging]" / "agyn.toml"  # brackets are text, not terminal markup
    missing = one_error_line(agyn("config", "show", cwd=workdir, env=cli_env(AGYN_CONFIG_FILE=str(absent))))
    assert f"AGYN_CONFIG_FILE={absent}: no such file" in missing
    ini = workdir / "agyn.ini"
    ini.write_text("port=1\n")
    wrong_kind = one_error_line(agyn("config", "show", cwd=workdir, env=cli_env(AGYN_CONFIG_FILE=str(ini))))
    assert ".toml, .yaml or .yml" in wrong_kind
    bad = workdir / "bad.toml"
    bad.write_text('port = "eighty"\n')
    bad_value = one_error_line(agyn("config", "show", cwd=workdir, env=cli_env(AGYN_CONFIG_FILE=str(bad))))
    assert "invalid setting port" in bad_value


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["serve"], ["config", "show"], ["db", "upgrade"]])
def test_an_invalid_setting_is_one_clear_line(workdir: Path, command: list[str]) -> None:
    line = one_error_line(agyn(*command, "--data-dir", str(workdir / "invalid"), cwd=workdir,
                               env=cli_env(AGYN_PORT="abc")))
    assert line.startswith("error: invalid setting port: ")
    assert "AGYN_" in line  # says where to fix it


def test_a_bad_encryption_key_is_a_setting_error_that_does_not_echo_it(workdir: Path) -> None:
    for value, reason in (("not-base64-Secret!", "base64"), ("c2hvcnQtU2VjcmV0", "32 bytes")):
        result = agyn("serve", "--data-dir", str(workdir / "bad-key"), "--port", str(free_port()), cwd=workdir,
                      env=cli_env(AGYN_ENCRYPTION_KEY=value))
        line = one_error_line(result)
        assert line.startswith("error: invalid setting encryption_key: ") and reason in line
        assert value not in result.stdout + result.stderr
    assert not (workdir / "bad-key").exists()


def test_a_failed_start_ends_with_a_clear_line(workdir: Path) -> None:
    """Whatever breaks while starting, the last word is one `error:` line and a non-zero exit."""
    not_a_directory = workdir / "data-dir-is-a-file"
    not_a_directory.write_text("")
    result = agyn("serve", "--data-dir", str(not_a_directory), "--port", str(free_port()), cwd=workdir)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == "error: the platform failed to start; the log above says why"
    assert not TOKEN_PATTERN.search(result.stdout)


def test_port_already_in_use_is_one_clear_line(workdir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        data_dir = workdir / "port-taken"
        line = one_error_line(agyn("serve", "--data-dir", str(data_dir), "--port", str(port), cwd=workdir))
    assert f"cannot listen on 127.0.0.1:{port}" in line and "in use" in line
    assert "--port" in line  # the fix
    assert not (data_dir / "admin-token").exists(), "bootstrapped although it could not serve"


# --- db upgrade ----------------------------------------------------------------------------------


def test_db_upgrade_on_a_fresh_sqlite_data_dir(workdir: Path) -> None:
    data_dir = workdir / "fresh-sqlite"
    head = migrations.head_revision()
    first = agyn("db", "upgrade", "--data-dir", str(data_dir), cwd=workdir)
    assert first.returncode == 0, first.stderr
    assert f"upgraded from empty to {head}" in first.stdout
    assert (data_dir / "agyn.db").is_file()
    again = agyn("db", "upgrade", "--data-dir", str(data_dir), cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert f"up to date (revision {head})" in again.stdout


def test_db_upgrade_with_an_unreachable_database(workdir: Path) -> None:
    url = f"postgresql://agyn@127.0.0.1:{free_port()}/agyn"
    line = one_error_line(agyn("db", "upgrade", cwd=workdir, env=cli_env(AGYN_DATABASE_URL=url)))
    assert "cannot use the database" in line and "AGYN_DATABASE_URL" in line


async def _postgres(statement: str) -> None:
    assert POSTGRES_URL is not None
    connection = await asyncpg.connect(POSTGRES_URL)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database (plain `postgresql://` URL), dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("set AGYN_TEST_POSTGRES_URL to run against PostgreSQL")
    name = f"agyn_cli_{uuid.uuid4().hex[:10]}"
    asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    finally:
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_postgres_needs_db_upgrade_before_serve(workdir: Path, postgres_database: str) -> None:
    env = cli_env(AGYN_DATABASE_URL=postgres_database)
    data_dir = workdir / "postgres-data"
    head = migrations.head_revision()

    refused = agyn("serve", "--data-dir", str(data_dir), "--port", str(free_port()), cwd=workdir, env=env)
    line = one_error_line(refused)
    assert "run `agyn db upgrade`" in line and "schema is empty" in line
    assert not TOKEN_PATTERN.search(refused.stdout)

    first = agyn("db", "upgrade", "--data-dir", str(data_dir), cwd=workdir, env=env)
    assert first.returncode == 0, first.stderr
    assert f"upgraded from empty to {head}" in first.stdout
    again = agyn("db", "upgrade", "--data-dir", str(data_dir), cwd=workdir, env=env)
    assert again.returncode == 0, again.stderr
    assert f"up to date (revision {head})" in again.stdout

    serve = Serve(data_dir, cwd=workdir, env=env)
    try:
        elapsed = serve.wait_healthy()
        print(f"\n[measured] agyn serve, first start on PostgreSQL: /healthz answered after {elapsed:.2f} s")
        token = (data_dir / "admin-token").read_text().strip()
        assert token not in serve.stdout
        assert me(serve.url, token).status_code == 200
        assert token not in serve.stderr
    finally:
        serve.stop()


def test_db_upgrade_names_a_missing_postgres_database(workdir: Path, postgres_database: str) -> None:
    missing = postgres_database + "_missing"
    line = one_error_line(agyn("db", "upgrade", cwd=workdir, env=cli_env(AGYN_DATABASE_URL=missing)))
    assert f'database "{missing.rpartition("/")[2]}" does not exist' in line
