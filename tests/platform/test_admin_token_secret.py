"""On Kubernetes the first start also writes the admin token into a Secret (AGYN_ADMIN_TOKEN_SECRET), since
each replica's data dir is its own. The official client talks HTTP to a small local server that speaks the
Secrets endpoint of the Kubernetes API (there is no cluster here), found through a kubeconfig."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_cli import TOKEN_PATTERN, Serve, admin_token, agyn, cli_env, free_port, one_error_line
from tests.conftest import BACKENDS, scratch_postgres

SECRET_PATH = "/api/v1/namespaces/agyn/secrets/agyn-admin-token"


@dataclass
class SecretsServer:
    """Answers PATCH on one Secret (or refuses, as RBAC would), and remembers what it was sent."""

    status: int = 200
    patches: list[dict[str, Any]] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)


def handler_for(state: SecretsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_PATCH(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != SECRET_PATH:
                return self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404,
                                        "reason": "NotFound", "message": f"{self.path} not found"})
            if state.status != 200:
                return self.reply(state.status, {
                    "kind": "Status", "apiVersion": "v1", "status": "Failure", "code": state.status,
                    "reason": "Forbidden", "message": 'secrets "agyn-admin-token" is forbidden'})
            state.patches.append(body)
            state.content_types.append(self.headers["Content-Type"])
            return self.reply(200, {"kind": "Secret", "apiVersion": "v1", "type": "Opaque",
                                    "metadata": {"name": "agyn-admin-token", "namespace": "agyn"}})

        def reply(self, status: int, document: dict[str, Any]) -> None:
            data = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def kubernetes_api(tmp_path: Path) -> Iterator[tuple[SecretsServer, Path]]:
    """The local server and a kubeconfig that points the client at it."""
    state = SecretsServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "test", "user": {"token": "service-account-token"}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}]}))
    try:
        yield state, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=BACKENDS)
async def database_setting(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """Nothing for SQLite (the data dir's file); a fresh, migrated database on PostgreSQL."""
    if request.param == "sqlite":
        yield {}
        return
    async with scratch_postgres(cli_env(), tmp_path / ".agyn") as url:
        yield {"AGYN_DATABASE_URL": url}


def test_the_first_start_fills_the_secret_once(tmp_path: Path, kubernetes_api: tuple[SecretsServer, Path],
                                               database_setting: dict[str, str]) -> None:
    state, kubeconfig = kubernetes_api
    env = cli_env(AGYN_ADMIN_TOKEN_SECRET="agyn/agyn-admin-token", KUBECONFIG=str(kubeconfig), **database_setting)
    first = Serve(tmp_path / "data", cwd=tmp_path, env=env)
    try:
        first.wait_healthy()
        token = admin_token(first)
        assert state.patches == [{"stringData": {"token": token}}]
        assert state.content_types[0].startswith("application/strategic-merge-patch+json")
        assert token not in first.stdout + first.stderr
    finally:
        assert first.stop() == 0
    again = Serve(tmp_path / "data", cwd=tmp_path, env=env)
    try:
        again.wait_healthy()
        assert len(state.patches) == 1  # bootstrapped before: nothing to write
    finally:
        again.stop()


def test_a_refused_write_fails_the_start_and_the_next_start_bootstraps(
        tmp_path: Path, kubernetes_api: tuple[SecretsServer, Path], database_setting: dict[str, str]) -> None:
    """Without the right to write the Secret the first start fails whole (no admin only a file knows about);
    once the right is there, the next start creates the admin and fills the Secret."""
    state, kubeconfig = kubernetes_api
    env = cli_env(AGYN_ADMIN_TOKEN_SECRET="agyn/agyn-admin-token", KUBECONFIG=str(kubeconfig), **database_setting)
    state.status = 403
    refused = agyn("serve", "--data-dir", str(tmp_path / "data"), "--port", str(free_port()), cwd=tmp_path, env=env)
    assert refused.returncode != 0
    assert refused.stderr.strip().splitlines()[-1] == "error: the platform failed to start; the log above says why"
    assert "Forbidden" in refused.stdout + refused.stderr
    assert not TOKEN_PATTERN.search(refused.stdout + refused.stderr)
    state.status = 200
    serve = Serve(tmp_path / "data", cwd=tmp_path, env=env)
    try:
        serve.wait_healthy()
        assert state.patches == [{"stringData": {"token": admin_token(serve)}}]
    finally:
        serve.stop()


def test_a_malformed_secret_reference_is_a_setting_error(tmp_path: Path) -> None:
    result = agyn("config", "show", cwd=tmp_path, env=cli_env(AGYN_ADMIN_TOKEN_SECRET="no-namespace"))
    assert "admin_token_secret" in one_error_line(result)
