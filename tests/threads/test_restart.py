"""Delivery survives a crash: messages unacked when `agyn serve` is killed (SIGKILL, no shutdown)
are still unacked, in order, after it starts again on the same data."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
import pytest

from tests.cli.test_cli import Serve, admin_token, cli_env
from tests.conftest import POSTGRES_URL, database_env


def _api(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_unacked_survive_kill_9(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql" and not POSTGRES_URL:
        pytest.skip("AGYN_TEST_POSTGRES_URL is not set")
    async with database_env(backend, cli_env(), tmp_path / ".agyn") as env:
        _kill_and_restart(tmp_path, env)


def _kill_and_restart(tmp_path: Path, env: dict[str, str]) -> None:
    data = tmp_path / "data"
    first = Serve(data, cwd=tmp_path, env=env)
    try:
        first.wait_healthy()
        token = admin_token(first)
        with _api(first.url, token) as admin:
            users = []
            for name in ("ann", "ben"):
                user = _ok(admin.post("/api/v1/users", json={"oidc_subject": f"t|{name}", "username": name}), 201)
                secret = _ok(admin.post(f"/api/v1/users/{user['id']}/api-tokens", json={"name": "t"}), 201)["token"]
                users.append((user["id"], secret))
            org = _ok(admin.post("/api/v1/organizations", json={"name": "crash"}), 201)
            for user_id, _ in users:
                _ok(admin.post("/api/v1/memberships", json={"organization_id": org["id"], "identity_id": user_id}), 201)
        (_, ann), (ben_id, ben) = users
        with _api(first.url, ann) as client:
            thread = _ok(client.post("/api/v1/threads", json={"organization_id": org["id"], "participants": ["@ben"]}),
                         201)
            sent = [_ok(client.post(f"/api/v1/threads/{thread['id']}/messages", json={"body": f"m{i}"}), 201)["id"]
                    for i in range(3)]
        with _api(first.url, ben) as client:
            assert _ok(client.post("/api/v1/me/ack", json={"message_ids": [sent[0]]})) == {"acked": 1}
    finally:
        os.kill(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=20)
    assert first.process.returncode == -signal.SIGKILL

    second = Serve(data, cwd=tmp_path, env=env)
    try:
        second.wait_healthy()
        with _api(second.url, ben) as client:
            unacked = _ok(client.get("/api/v1/me/unacked-messages"))["items"]
            assert [m["id"] for m in unacked] == sent[1:]
            assert [m["body"] for m in unacked] == ["m1", "m2"]
            assert _ok(client.get("/api/v1/me/unacked-counts")) == {thread["id"]: 2}
    finally:
        second.stop()
