"""`agyn threads` and `agyn conversations` against a real `agyn serve`, as two users would use them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import Serve, admin_token, agyn, cli_env, one_error_line

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Serve, Path, dict[str, str]]]:
    """A platform with an organization `crew` where ann and ben are members; their tokens by name."""
    workdir = tmp_path_factory.mktemp("conversations-cli")
    serve = Serve(workdir / "data", cwd=workdir)
    try:
        serve.wait_healthy()
        with httpx.Client(base_url=serve.url, headers={"Authorization": f"Bearer {admin_token(serve)}"},
                          timeout=30) as admin:
            org = admin.post("/api/v1/organizations", json={"name": "crew"}).json()
            tokens = {}
            for name in ("ann", "ben"):
                user = admin.post("/api/v1/users", json={"oidc_subject": f"t|{name}", "username": name}).json()
                tokens[name] = admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "t"}).json()["token"]
                admin.post("/api/v1/memberships", json={"organization_id": org["id"], "identity_id": user["id"]})
        yield serve, workdir, tokens
    finally:
        serve.stop()


def as_user(world: tuple[Serve, Path, dict[str, str]], name: str, *args: str) -> str:
    serve, workdir, tokens = world
    result = agyn(*args, cwd=workdir, env=cli_env(AGYN_API_URL=serve.url, AGYN_API_TOKEN=tokens[name],
                                                  COLUMNS="200"))
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_threads_commands_send_read_and_ack(world: tuple[Serve, Path, dict[str, str]]) -> None:
    created = as_user(world, "ann", "threads", "create", "--org", "crew", "@ben")
    thread_id = re.search(f"thread ({UUID})", created).group(1)  # type: ignore[union-attr]
    sent = as_user(world, "ann", "threads", "send", "--thread", thread_id, "Hello Ben")
    message_id = re.search(f"message ({UUID})", sent).group(1)  # type: ignore[union-attr]
    serve, workdir, tokens = world
    from_env = agyn("threads", "send", "second one", cwd=workdir,  # as inside a workload: the thread from env
                    env=cli_env(AGYN_API_URL=serve.url, AGYN_API_TOKEN=tokens["ann"], THREAD_ID=thread_id))
    assert from_env.returncode == 0, from_env.stderr

    unacked = as_user(world, "ben", "threads", "unacked")
    assert message_id in unacked and "Hello Ben" in unacked and "second one" in unacked
    assert "Hello Ben" in as_user(world, "ben", "threads", "messages", thread_id)
    assert "Acknowledged 1 message." in as_user(world, "ben", "threads", "ack", message_id)
    assert "Acknowledged 0 messages." in as_user(world, "ben", "threads", "ack", message_id)
    assert "Acknowledged 1 message." in as_user(world, "ben", "threads", "ack", "--all-in", thread_id)
    assert "Nothing unacknowledged." in as_user(world, "ben", "threads", "unacked")


def test_conversations_commands(world: tuple[Serve, Path, dict[str, str]]) -> None:
    opened = as_user(world, "ann", "conversations", "open", "--org", "crew", "@ben", "-m", "Ship it?")
    conversation_id = re.search(f"conversation ({UUID})", opened).group(1)  # type: ignore[union-attr]
    listing = as_user(world, "ben", "conversations", "list", "--org", "crew")
    assert conversation_id in listing and "Ship it?" in listing and "open" in listing
    assert "is resolved" in as_user(world, "ben", "conversations", "resolve", conversation_id)
    assert conversation_id not in as_user(world, "ben", "conversations", "list")
    assert conversation_id in as_user(world, "ben", "conversations", "list", "--status", "resolved")


def test_errors_are_one_line_with_the_fix(world: tuple[Serve, Path, dict[str, str]]) -> None:
    serve, workdir, tokens = world
    env = cli_env(AGYN_API_URL=serve.url, AGYN_API_TOKEN=tokens["ann"])
    line = one_error_line(agyn("threads", "send", "--thread", "01234567-0123-7123-8123-0123456789ab", "hi",
                               cwd=workdir, env=env))
    assert "404" in line and "check the id" in line
    line = one_error_line(agyn("conversations", "open", "--org", "crew", "@nobody", cwd=workdir, env=env))
    assert "@nobody" in line
    line = one_error_line(agyn("threads", "unacked", cwd=workdir, env=cli_env(AGYN_API_URL=serve.url,
                                                                              AGYN_API_TOKEN="agyn_wrong")))
    assert "401" in line and "AGYN_API_TOKEN" in line
    line = one_error_line(agyn("threads", "unacked", cwd=workdir, env=cli_env(AGYN_API_URL="http://127.0.0.1:9",
                                                                              AGYN_API_TOKEN="x")))
    assert "cannot reach" in line
    assert "no messages given" in one_error_line(agyn("threads", "ack", cwd=workdir, env=env))
