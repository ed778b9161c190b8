from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from agyn.testllm.app import create_standalone_app
from agyn.testllm.suites import BUNDLED_SUITES_DIR, SuiteStore

DEMO_SUITE = """\
name: demo
protocol: openai
tests:
  simple-hello:
    - {type: message, role: user, content_contains: "hi"}
    - {type: message, role: assistant, content: "Hi! How are you?"}
  weather:
    - {type: message, role: user, any_content: true}
    - {type: function_call, call_id: fc_1, name: get_weather, arguments: '{"city": "Paris"}'}
    - {type: function_call_output, call_id: fc_1, output: '{"t": 18}'}
    - {type: message, role: assistant, content: "18 degrees."}
"""

CLAUDE_DEMO_SUITE = """\
name: claude-demo
protocol: anthropic
tests:
  hello:
    - {type: anthropic_system, content: "Be brief."}
    - {type: anthropic_message, role: user, content_contains: "hi"}
    - {type: anthropic_message, role: assistant, content: "Hi! How are you?"}
  weather:
    - {type: anthropic_message, role: user, any_content: true}
    - type: anthropic_message
      role: assistant
      content_blocks:
        - {type: text, text: "Let me check."}
        - {type: tool_use, id: toolu_1, name: get_weather, input: {city: Paris}}
    - type: anthropic_message
      role: user
      content_blocks: [{type: tool_result, tool_use_id: toolu_1, content: '{"t": 18}'}]
    - {type: anthropic_message, role: assistant, content: "18 degrees."}
"""


@pytest.fixture(scope="session")
def suites_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("suites")
    (directory / "demo.yaml").write_text(DEMO_SUITE, encoding="utf-8")
    (directory / "claude-demo.yaml").write_text(CLAUDE_DEMO_SUITE, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def store(suites_dir: Path) -> SuiteStore:
    return SuiteStore([BUNDLED_SUITES_DIR, suites_dir], check_interval=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def server_url(store: SuiteStore) -> Iterator[str]:
    """A real uvicorn server on a free port serving the test LLM at /testllm."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_standalone_app(store), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test LLM server did not start")
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}/testllm"
    server.should_exit = True
    thread.join(10)
