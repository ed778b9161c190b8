"""`agyn chat` in a real terminal (a pseudo-terminal driven by pexpect), talking to an agent served by
`agyn agent-runtime` with a workload token; the agent's reply is Markdown."""

from __future__ import annotations

import re
from pathlib import Path

import pexpect
import pytest

from tests.agent_runtime.conftest import AGYN, ProxyWorld, Server, make_proxy_world
from tests.agent_runtime.test_daemon import make_agent, messages, start_runtime, thread_with
from tests.cli.test_cli import cli_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def world(server: Server) -> ProxyWorld:
    return make_proxy_world(server, ["runtime/echo"])


def spawn_chat(world: ProxyWorld, *args: str) -> pexpect.spawn:
    env = cli_env(AGYN_API_URL=world.server.url, AGYN_API_TOKEN=world.token, TERM="xterm-256color")
    env.pop("NO_COLOR")
    env["COLUMNS"] = "100"
    return pexpect.spawn(str(AGYN), ["chat", *args], env=env, encoding="utf-8", timeout=60, dimensions=(40, 100))


async def test_chat_shows_the_reply_live_rendered_and_ctrl_d_ends(world: ProxyWorld, tmp_path: Path) -> None:
    agent = make_agent(world, "runtime/echo")
    thread_id = thread_with(world, agent)
    runtime = await start_runtime(world, agent, thread_id, tmp_path)
    chat = spawn_chat(world, f"@{agent['nickname']}", "--conversation", thread_id)
    try:
        chat.expect(f"Conversation {thread_id}")
        chat.expect("> ")
        chat.sendline("hello there, agent")
        chat.expect("Your message arrived", timeout=60)
        shown = ANSI.sub("", chat.before + chat.after)
        assert "Got it." in shown and "**Got it.**" not in shown  # Markdown rendered, not printed raw
        assert f"{agent['nickname']}:" in shown
        chat.sendeof()  # Ctrl-D
        chat.expect(f"agyn chat @{agent['nickname']} --conversation {thread_id}")
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
        runtime.stop()
    assert chat.exitstatus == 0
    bodies = [m["body"] for m in messages(world, thread_id)]
    assert bodies == ["hello there, agent", "**Got it.** Your message arrived."]


async def test_chat_opens_a_new_conversation_and_shows_earlier_messages(world: ProxyWorld) -> None:
    agent = make_agent(world, "runtime/echo")
    org = world.server.api.get(f"/api/v1/organizations/{world.organization_id}").json()["name"]
    chat = spawn_chat(world, f"@{agent['nickname']}", "--org", org)
    try:
        chat.expect(r"Conversation ([0-9a-f-]{36})")
        conversation_id = chat.match.group(1)
        chat.expect("> ")
        chat.sendline("first words")
        chat.sendeof()
        chat.expect(pexpect.EOF)
    finally:
        chat.close()
    assert chat.exitstatus == 0
    assert [m["body"] for m in messages(world, conversation_id)] == ["first words"]
    again = spawn_chat(world, f"@{agent['nickname']}", "--conversation", conversation_id)
    try:
        again.expect("you")
        again.expect("first words")
        again.sendeof()
        again.expect(pexpect.EOF)
    finally:
        again.close()
