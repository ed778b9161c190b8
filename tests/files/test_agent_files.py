"""Files in conversations, end to end on `agyn serve` with its orchestrator and local runner: a person sends
an image and a text file to an agent, whose scripted model reads the text with `read_file` through the files
MCP (`agyn mcp files`, with the workload's token) and answers from it; the other participant downloads both,
and a signed URL works without a token until it expires. Then the files MCP alone, over Streamable HTTP."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client

from tests.agent_runtime.conftest import ProxyWorld, Server, make_proxy_world, platform_process, stop, wait_for_port
from tests.agent_runtime.test_daemon import make_agent, messages, owner
from tests.cli.test_cli import AGYN, cli_env, free_port
from tests.files.conftest import FILES, png

REPLY_TIMEOUT = 90.0
SECRET = "The launch code is 4242.\n"
ANSWER = "The text file says the launch code is 4242."


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("platform")


@pytest.fixture(scope="module")
async def orchestrated(workdir: Path) -> AsyncIterator[Server]:
    async with platform_process("sqlite", workdir, AGYN_ORCHESTRATOR__TICK_SECONDS="0.5") as found:
        yield found


def upload(world: ProxyWorld, content: bytes, filename: str, content_type: str) -> dict[str, Any]:
    response = world.server.api.post(FILES, headers=owner(world), params={"organization_id": world.organization_id},
                                     files={"file": (filename, content, content_type)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def member(server: Server, organization_id: str, name: str) -> dict[str, str]:
    """A new member of the organization, and the headers of their token."""
    created = server.api.post("/api/v1/users", json={"oidc_subject": f"test|{name}", "username": name})
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    token = server.api.post(f"/api/v1/users/{user_id}/api-tokens", json={"name": "test"}).json()["token"]
    joined = server.api.post("/api/v1/memberships", json={"organization_id": organization_id, "identity_id": user_id,
                                                           "role": "member"})
    assert joined.status_code == 201, joined.text
    return {"id": user_id, "Authorization": f"Bearer {token}"}


def script_model(world: ProxyWorld, workdir: Path, text_id: str) -> str:
    """A test LLM script that reads this very file (its id is known only now), and a model running it."""
    suites = workdir / "data" / "testllm"
    suites.mkdir(parents=True, exist_ok=True)
    (suites / "files.yaml").write_text(json.dumps({"name": "files", "protocol": "openai", "tests": {"read-attachment": [
        {"type": "message", "role": "user", "content_contains": f"agyn://file/{text_id}"},
        {"type": "function_call", "call_id": "fc_read", "name": "read_file",
         "arguments": json.dumps({"file_id": f"agyn://file/{text_id}"})},
        {"type": "function_call_output", "call_id": "fc_read", "output": SECRET},
        {"type": "message", "role": "assistant", "content": ANSWER}]}}))
    provider = world.server.api.post("/api/v1/llm-providers", headers=owner(world), json={
        "organization_id": world.organization_id, "name": "test-llm-files",
        "endpoint": f"{world.server.url}/testllm/files/v1", "protocol": "responses", "auth_method": "bearer",
        "token": "unused"})
    assert provider.status_code == 201, provider.text
    model = world.server.api.post("/api/v1/models", headers=owner(world), json={
        "organization_id": world.organization_id, "name": "files-read-attachment",
        "llm_provider_id": provider.json()["id"], "remote_name": "read-attachment"})
    assert model.status_code == 201, model.text
    world.models["files/read-attachment"] = model.json()["id"]
    return "files/read-attachment"


async def test_an_agent_reads_an_attached_file_and_the_other_participant_downloads_both(
        orchestrated: Server, workdir: Path) -> None:
    world = make_proxy_world(orchestrated, [])
    image = png(64, 48)
    picture = upload(world, image, "chart.png", "image/png")
    text = upload(world, SECRET.encode(), "secret.txt", "text/plain")
    agent = make_agent(world, script_model(world, workdir, text["id"]))
    mcp = orchestrated.api.post("/api/v1/mcps", headers=owner(world), json={
        "agent_id": agent["id"], "name": "files", "command": "agyn mcp files", "env": {"MCP_TRANSPORT": "stdio"}})
    assert mcp.status_code == 201, mcp.text
    carol = member(orchestrated, world.organization_id, f"carol-{text['id'][-6:]}")
    thread = orchestrated.api.post("/api/v1/threads", headers=owner(world), json={
        "organization_id": world.organization_id, "participants": [f"@{agent['nickname']}", carol["id"]]})
    assert thread.status_code == 201, thread.text
    thread_id = thread.json()["id"]
    sent = orchestrated.api.post(f"/api/v1/threads/{thread_id}/messages", headers=owner(world), json={
        "body": "What does the text file say?", "file_ids": [picture["id"], text["id"]]})
    assert sent.status_code == 201, sent.text

    deadline = time.monotonic() + REPLY_TIMEOUT
    while time.monotonic() < deadline and len(found := messages(world, thread_id)) < 2:
        await asyncio.sleep(0.1)
    assert [(m["sender_id"], m["body"]) for m in found[1:]] == [(agent["id"], ANSWER)], orchestrated.logs[-3000:]

    headers = {"Authorization": carol["Authorization"]}
    assert orchestrated.api.get(f"{FILES}/{picture['id']}/content", headers=headers).content == image
    assert orchestrated.api.get(f"{FILES}/{text['id']}/content", headers=headers).content == SECRET.encode()
    signed = orchestrated.api.post(f"{FILES}/{picture['id']}/url", headers=headers, json={"expires_in_seconds": 2})
    assert signed.status_code == 200, signed.text
    with httpx.Client() as anonymous:
        assert anonymous.get(signed.json()["url"]).content == image
        await asyncio.sleep(2.1)
        assert anonymous.get(signed.json()["url"]).status_code == 404


async def test_the_files_mcp_returns_images_text_and_blobs_and_readable_errors(orchestrated: Server,
                                                                               tmp_path: Path) -> None:
    world = make_proxy_world(orchestrated, [])
    image = png(8, 8)
    picture = upload(world, image, "dot.png", "image/png")
    text = upload(world, b"line one\nline two\n", "notes.md", "text/markdown")
    blob = upload(world, b"%PDF-1.4\n" + bytes(range(256)), "paper.pdf", "application/pdf")
    big = upload(world, b"x" * 2048, "big.txt", "text/plain")
    port = free_port()
    with (tmp_path / "mcp.log").open("w") as log:
        process = subprocess.Popen([str(AGYN), "mcp", "files"], stdout=log, stderr=subprocess.STDOUT, env=cli_env(
            MCP_PORT=str(port), AGYN_API_URL=orchestrated.url, AGYN_API_TOKEN=world.token, MAX_FILE_SIZE="1024"))
    try:
        wait_for_port(port, process, "agyn mcp files")
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            [tool] = (await client.list_tools()).tools
            assert tool.name == "read_file" and list(tool.input_schema["properties"]) == ["file_id"]

            read = await client.call_tool("read_file", {"file_id": picture["id"]})
            [content] = read.content
            assert not read.is_error and content.type == "image" and content.mime_type == "image/png"
            assert base64.b64decode(content.data) == image

            read = await client.call_tool("read_file", {"file_id": f"agyn://file/{text['id']}"})
            assert [(c.type, c.text) for c in read.content] == [("text", "line one\nline two\n")]

            read = await client.call_tool("read_file", {"file_id": blob["id"]})
            [content] = read.content
            assert content.type == "resource" and content.resource.mime_type == "application/pdf"
            assert str(content.resource.uri) == f"agyn://file/{blob['id']}"
            assert base64.b64decode(content.resource.blob).startswith(b"%PDF-1.4")

            missing = "00000000-0000-7000-8000-000000000000"
            for file_id, error in ((missing, f"file not found: {missing}"), ("nonsense", "file not found: nonsense")):
                read = await client.call_tool("read_file", {"file_id": file_id})
                assert read.is_error and [c.text for c in read.content] == [error]
            read = await client.call_tool("read_file", {"file_id": big["id"]})
            assert read.is_error and read.content[0].text.startswith("file too large: big.txt is 2048 bytes")
    finally:
        stop(process)
