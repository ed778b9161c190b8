"""`agyn testllm serve` as a real process, called with the OpenAI SDK; `agyn testllm check`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import openai

from tests.testllm.conftest import DEMO_SUITE, free_port

AGYN = Path(sys.executable).with_name("agyn")


def wait_for_port(port: int, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"agyn testllm serve exited with {process.returncode}: {process.communicate()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("agyn testllm serve did not listen in time")


def test_standalone_serve_answers_the_openai_sdk(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(DEMO_SUITE, encoding="utf-8")
    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    process = subprocess.Popen([str(AGYN), "testllm", "serve", "--suites", str(tmp_path), "--port", str(port)],
                               env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/testllm/demo/v1", api_key="x", max_retries=0)
        assert client.responses.create(model="simple-hello", input="hi").output_text == "Hi! How are you?"
        bundled = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/testllm/agn/v1", api_key="x", max_retries=0)
        assert bundled.responses.create(model="simple-hello", input="hi").output_text == "Hi! How are you?"
    finally:
        process.terminate()
        stdout, _ = process.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/testllm/<suite>/v1" in stdout
    assert "demo (openai, 2 tests)" in stdout and "agn (openai," in stdout
    assert f'OpenAI(base_url="http://127.0.0.1:{port}/testllm/agn/v1"' in stdout
    assert f'Anthropic(base_url="http://127.0.0.1:{port}/testllm/claude"' in stdout


def test_check_reports_broken_files(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(DEMO_SUITE.replace("call_id: fc_1, name", "name"), encoding="utf-8")
    result = subprocess.run([str(AGYN), "testllm", "check", "--suites", str(tmp_path)], capture_output=True,
                            text=True, timeout=60, check=False, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 1
    assert "demo.yaml" in result.stderr and "test 'weather', item 2 (function_call)" in result.stderr
    assert "agn (openai," in result.stdout


def test_serve_refuses_a_missing_directory(tmp_path: Path) -> None:
    result = subprocess.run([str(AGYN), "testllm", "serve", "--suites", str(tmp_path / "nope")],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1 and "is not a directory" in result.stderr
