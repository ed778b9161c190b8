"""`scripts/quickstart.sh` when its port belongs to another process: it says so and what to do, and never
claims a platform runs there."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import httpx

from tests.readme.test_readmes import fresh_copy, runner_env


def test_quickstart_on_a_taken_port_says_what_to_do(tmp_path: Path) -> None:
    checkout = fresh_copy(tmp_path / "checkout")
    with socket.socket() as other:  # "another process" holding the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = runner_env(tmp_path, port)
        result = subprocess.run(["bash", "scripts/quickstart.sh"], cwd=checkout, env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "AGYN_PORT=8081 bash scripts/quickstart.sh" in result.stderr
    assert "The platform is running" not in result.stdout
    assert not (checkout / ".agyn" / "agyn.pid").exists()


def test_quickstart_runs_in_a_script_and_leaves_the_platform_running(tmp_path: Path) -> None:
    from tests.cli.test_cli import free_port

    checkout = fresh_copy(tmp_path / "checkout")
    port = free_port()
    env = runner_env(tmp_path, port)
    try:
        result = subprocess.run(["bash", "scripts/quickstart.sh"], cwd=checkout, env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=300, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert '"cluster_role":"admin"' in result.stdout
        assert "The platform is running in the background" in result.stdout
        # the agent declared through Terraform answered, after calling its MCP tool, through the test LLM
        assert "The weather in Paris is currently 18°C and partly cloudy." in result.stdout
        assert "agyn chat @assistant --org quickstart" in result.stdout
        # it ends with the chat page's address, and the page is there
        assert result.stdout.rstrip().splitlines()[-1].startswith(f"==> Chat in the browser: http://127.0.0.1:{port}/ ")
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and '<div id="app">' in page.text and "/web/assets/main-" in page.text
        pid = int((checkout / ".agyn" / "agyn.pid").read_text())
        os.kill(pid, 0)
        log = (checkout / ".agyn" / "agyn.log").read_text()
        assert "INFO agyn.access: request method=GET path=/me status=200 duration_ms=" in log  # AGYN_LOG_FORMAT=text
    finally:
        subprocess.run([str(checkout / ".venv" / "bin" / "agyn"), "stop"], cwd=checkout, env=env, capture_output=True,
                       timeout=60, check=False)
