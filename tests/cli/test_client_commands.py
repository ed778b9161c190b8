"""The CLI for people who do not write Terraform yet: `agyn login` (a config file, so the CLI works from
anywhere), `agyn users`, `agyn orgs`, `agyn serve --detach` / `agyn stop`, and help screens that read
cleanly in an 80-column terminal."""

from __future__ import annotations

import json
import stat
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import AGYN, TOKEN_PATTERN, Serve, agyn, cli_env, free_port, me, one_error_line


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("client")


@pytest.fixture(scope="module")
def server(workdir: Path) -> Iterator[Serve]:
    serve = Serve(workdir / "data", cwd=workdir)
    try:
        serve.wait_healthy()
        yield serve
    finally:
        serve.stop()


def admin_token(server: Serve) -> str:
    return (server.data_dir / "admin-token").read_text().strip()


# --- help ----------------------------------------------------------------------------------------

HELP_SCREENS = [["--help"], ["serve", "--help"], ["token", "create", "--help"], ["secrets", "rotate-key", "--help"],
                ["login", "--help"], ["users", "create", "--help"], ["orgs", "members", "--help"],
                ["authz", "check-consistency", "--help"]]


@pytest.mark.parametrize("args", HELP_SCREENS, ids=[" ".join(a) for a in HELP_SCREENS])
def test_help_reads_cleanly_in_80_columns(workdir: Path, args: list[str]) -> None:
    result = agyn(*args, cwd=workdir)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert all(len(line) <= 80 for line in text.splitlines()), text
    for tag in ("<bool>", "<str>", "<path>", "<int>", "BOOLEAN", "{name}", "--install-completion"):
        assert tag not in text, f"{tag} in `agyn {' '.join(args)}`:\n{text}"
    # paragraphs are reflowed: no line of prose ends where the next line's first word would have fitted
    prose = [line.rstrip() for line in text.splitlines() if line.startswith(" ") and "│" not in line]
    for line, following in zip(prose, prose[1:], strict=False):
        if line.strip() and following.strip():
            assert len(line) + 1 + len(following.split()[0]) > 79, f"ragged wrap after {line!r}:\n{text}"


def test_option_metavars_say_what_to_give(workdir: Path) -> None:
    text = agyn("token", "create", "--help", cwd=workdir).stdout
    assert "Usage: agyn token create [OPTIONS] NAME" in text
    for option, metavar in [("--api-url", "URL"), ("--token", "TOKEN"), ("--data-dir", "DIR"), ("--expires-at", "TIME")]:
        assert any(line.split()[1:3] == [option, metavar] for line in text.splitlines() if len(line.split()) > 2), text


# --- login and the lookup order ------------------------------------------------------------------


def test_login_saves_url_and_token_0600_and_the_cli_works_from_anywhere(server: Serve, workdir: Path) -> None:
    config_home = workdir / "xdg"
    env = cli_env(XDG_CONFIG_HOME=str(config_home), AGYN_CLIENT_CONFIG="")
    logged_in = agyn("login", "--api-url", server.url, "--data-dir", str(server.data_dir), cwd=workdir, env=env)
    assert logged_in.returncode == 0, logged_in.stderr
    path = config_home / "agyn" / "config.toml"
    assert f"Logged in to {server.url} as admin" in logged_in.stdout and str(path) in logged_in.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert tomllib.loads(path.read_text()) == {"url": server.url, "token": admin_token(server)}
    assert admin_token(server) not in logged_in.stdout

    elsewhere = workdir / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    listing = agyn("token", "list", cwd=elsewhere, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "bootstrap admin token" in listing.stdout

    # the environment wins over the file, a flag over the environment
    wrong = "agyn_" + "x" * 44
    assert "401" in one_error_line(agyn("token", "list", cwd=elsewhere, env={**env, "AGYN_API_TOKEN": wrong}))
    flagged = agyn("token", "list", "--token", admin_token(server), cwd=elsewhere, env={**env, "AGYN_API_TOKEN": wrong})
    assert flagged.returncode == 0, flagged.stderr
    dead = f"http://127.0.0.1:{free_port()}"
    assert f"cannot reach {dead}" in one_error_line(agyn("token", "list", cwd=elsewhere,
                                                         env={**env, "AGYN_API_URL": dead}))

    logged_out = agyn("logout", cwd=elsewhere, env=env)
    assert logged_out.returncode == 0 and not path.exists()
    assert "no API token given" in one_error_line(agyn("token", "list", cwd=elsewhere, env=env))


def test_login_reads_a_token_from_stdin_and_checks_it(server: Serve, workdir: Path) -> None:
    env = cli_env(AGYN_CLIENT_CONFIG=str(workdir / "stdin-login.toml"))
    process = subprocess.run([str(AGYN), "login", "--api-url", server.url, "--token", "-"], input="agyn_" + "y" * 44,
                             cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "401" in one_error_line(subprocess.CompletedProcess(process.args, process.returncode, process.stdout,
                                                               process.stderr))
    assert not (workdir / "stdin-login.toml").exists()
    process = subprocess.run([str(AGYN), "login", "--api-url", server.url, "--token", "-"],
                             input=admin_token(server) + "\n", cwd=workdir, env=env, capture_output=True, text=True,
                             timeout=60, check=False)
    assert process.returncode == 0, process.stderr
    assert tomllib.loads((workdir / "stdin-login.toml").read_text())["token"] == admin_token(server)


def test_a_local_platform_on_agyn_port_is_found_without_flags(server: Serve, workdir: Path) -> None:
    """With AGYN_PORT and AGYN_DATA_DIR set as for `agyn serve`, the client needs nothing else."""
    env = cli_env(AGYN_PORT=str(server.port), AGYN_DATA_DIR=str(server.data_dir))
    result = agyn("token", "list", cwd=workdir, env=env)
    assert result.returncode == 0, result.stderr


# --- users and orgs ------------------------------------------------------------------------------


def test_users_and_orgs(server: Serve, workdir: Path) -> None:
    api = ["--api-url", server.url, "--token", admin_token(server)]
    created = agyn("users", "create", "carol", "--name", "Carol C", "--email", "carol@example.com", *api, cwd=workdir)
    assert created.returncode == 0, created.stderr
    assert created.stdout.startswith("Created user carol (")
    listed = json.loads(agyn("users", "list", "--json", *api, cwd=workdir).stdout)
    carol = next(u for u in listed if u["username"] == "carol")
    assert (carol["name"], carol["email"], carol["oidc_subject"]) == ("Carol C", "carol@example.com", "local|carol")
    table = agyn("users", "list", *api, cwd=workdir).stdout
    assert "carol" in table and "Carol C" in table and carol["id"] in table
    assert "409" in one_error_line(agyn("users", "create", "carol", *api, cwd=workdir))

    org = agyn("orgs", "create", "zeta", *api, cwd=workdir)
    assert org.returncode == 0 and org.stdout.startswith("Created organization zeta (")
    assert "zeta" in agyn("orgs", "list", *api, cwd=workdir).stdout
    added = agyn("orgs", "add-member", "zeta", "carol", "--role", "owner", *api, cwd=workdir)
    assert added.returncode == 0, added.stderr
    assert "Added carol to zeta as owner (active)" in added.stdout
    members = json.loads(agyn("orgs", "members", "zeta", "--json", *api, cwd=workdir).stdout)
    assert {(m["username"], m["role"], m["status"]) for m in members} == {("admin", "owner", "active"),
                                                                         ("carol", "owner", "active")}
    assert "no organization named 'nope'" in one_error_line(agyn("orgs", "members", "nope", *api, cwd=workdir))
    assert "no user named 'dave'" in one_error_line(agyn("orgs", "add-member", "zeta", "dave", *api, cwd=workdir))


# --- serve --detach and stop ---------------------------------------------------------------------


def test_serve_detach_then_stop(workdir: Path) -> None:
    data_dir, port = workdir / "detached", free_port()
    env = cli_env(AGYN_PORT=str(port))
    started = agyn("serve", "--detach", "--data-dir", str(data_dir), cwd=workdir, env=env)
    try:
        assert started.returncode == 0, started.stderr
        assert f"agyn is running on http://127.0.0.1:{port}" in started.stdout and "agyn stop" in started.stdout
        # not a terminal here: the first start names the 0600 token file instead of printing the token
        token = (data_dir / "admin-token").read_text().strip()
        assert f"Its API token is in {data_dir.resolve() / 'admin-token'}" in started.stdout
        assert not TOKEN_PATTERN.search(started.stdout)
        assert me(f"http://127.0.0.1:{port}", token).status_code == 200
        pid = int((data_dir / "agyn.pid").read_text())
        log = (data_dir / "agyn.log").read_text()
        assert "agyn is ready" in log and token not in log
        assert stat.S_IMODE((data_dir / "agyn.log").stat().st_mode) == 0o600

        again = agyn("serve", "--detach", "--data-dir", str(data_dir), cwd=workdir, env=env)
        assert again.returncode == 0, again.stderr  # starting it again is not an error: it says where it runs
        assert f"already running with data dir {data_dir.resolve()} (pid {pid})" in again.stdout
        assert int((data_dir / "agyn.pid").read_text()) == pid
    finally:
        stopped = agyn("stop", "--data-dir", str(data_dir), cwd=workdir, env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert f"Stopped agyn (pid {pid})" in stopped.stdout
    assert not (data_dir / "agyn.pid").exists()
    idle = agyn("stop", "--data-dir", str(data_dir), cwd=workdir, env=env)
    assert idle.returncode == 0 and "not running" in idle.stdout

    restarted = agyn("serve", "--detach", "--data-dir", str(data_dir), cwd=workdir, env=env)
    try:
        assert restarted.returncode == 0, restarted.stderr
        assert "First start" not in restarted.stdout
    finally:
        assert agyn("stop", "--data-dir", str(data_dir), cwd=workdir, env=env).returncode == 0


def test_serve_detach_on_a_taken_port_is_one_line(server: Serve, workdir: Path) -> None:
    line = one_error_line(agyn("serve", "--detach", "--data-dir", str(workdir / "other"), "--port",
                               str(server.port), cwd=workdir))
    assert f"cannot listen on 127.0.0.1:{server.port}" in line and "another --port" in line
