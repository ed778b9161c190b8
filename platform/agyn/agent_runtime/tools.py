"""The agent's tools: the built-in `shell` and every tool of its MCP servers, as Responses function tools.

MCP servers are reached with the official SDK's client, over Streamable HTTP (a URL) or stdio (a command
the runtime starts). Tool names are the servers' own; two servers offering the same name, or a server
offering `shell`, is a configuration error found at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from agyn.agent_runtime.shell import DESCRIPTION as SHELL_DESCRIPTION
from agyn.agent_runtime.shell import SCHEMA as SHELL_SCHEMA
from agyn.agent_runtime.shell import ShellTool

if TYPE_CHECKING:  # the MCP SDK loads only for an agent that has MCP servers: a runtime without starts sooner
    from mcp import Client
    from mcp.types import CallToolResult

log = logging.getLogger("agyn.agent_runtime.tools")

ToolOutput = str | list[dict[str, Any]]
MCP_STARTUP_TIMEOUT = 120.0
"""The runner starts MCP servers beside the runtime: a server still starting is waited for this long."""


class ToolConfigurationError(ValueError):
    pass


@dataclass(frozen=True)
class McpServer:
    """One MCP server of the agent, as the runner describes it in `AGYN_MCP_SERVERS`."""

    name: str
    transport: Literal["streamable_http", "stdio"]
    url: str | None = None
    command: str | None = None

    @classmethod
    def parse_list(cls, text: str) -> list[McpServer]:
        """`[{"name", "transport": "streamable_http", "url"} | {"name", "transport": "stdio", "command"}]`."""
        try:
            items = json.loads(text) if text.strip() else []
        except ValueError as error:
            raise ToolConfigurationError(f"AGYN_MCP_SERVERS is not JSON: {error}") from None
        if not isinstance(items, list):
            raise ToolConfigurationError("AGYN_MCP_SERVERS must be a JSON list")
        servers: list[McpServer] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise ToolConfigurationError(f"AGYN_MCP_SERVERS: each server needs a name: {item!r}")
            transport = item.get("transport")
            if transport == "streamable_http" and isinstance(item.get("url"), str):
                servers.append(cls(item["name"], "streamable_http", url=item["url"]))
            elif transport == "stdio" and isinstance(item.get("command"), str):
                servers.append(cls(item["name"], "stdio", command=item["command"]))
            else:
                raise ToolConfigurationError(f"AGYN_MCP_SERVERS: server {item['name']!r} needs transport "
                                             "streamable_http with a url, or stdio with a command")
        return servers


def sanitise_schema(schema: object) -> dict[str, Any]:
    """A JSON schema every Responses provider accepts: objects have `properties`, arrays `items`, and a
    boolean sub-schema (which some providers refuse) becomes a string."""
    if not isinstance(schema, Mapping):
        return {"type": "string"}
    result: dict[str, Any] = dict(schema)
    if "type" not in result:
        result["type"] = "object" if "properties" in result else ("array" if "items" in result else "string")
    if result["type"] == "object":
        result["properties"] = {key: sanitise_schema(value)
                                for key, value in dict(result.get("properties") or {}).items()}
    if result["type"] == "array":
        result["items"] = sanitise_schema(result.get("items", {"type": "string"}))
    return result


def mcp_output(result: CallToolResult) -> ToolOutput:
    """A tool result as a function call output: the text when all content is text (joined by newlines),
    the structured content when there is nothing else, else input parts (text, images, files)."""
    from mcp.types import EmbeddedResource, ImageContent, TextContent

    content = list(result.content)
    if all(isinstance(block, TextContent) for block in content) and content:
        return "\n".join(block.text for block in content if isinstance(block, TextContent))
    if not content:
        return json.dumps(result.structured_content) if result.structured_content is not None else ""
    parts: list[dict[str, Any]] = []
    for block in content:
        if isinstance(block, TextContent):
            parts.append({"type": "input_text", "text": block.text})
        elif isinstance(block, ImageContent):
            parts.append({"type": "input_image", "image_url": f"data:{block.mime_type};base64,{block.data}"})
        elif isinstance(block, EmbeddedResource):
            resource = block.resource
            text = getattr(resource, "text", None)
            if isinstance(text, str):
                parts.append({"type": "input_text", "text": text})
            else:
                mime = resource.mime_type or "application/octet-stream"
                parts.append({"type": "input_file", "filename": str(resource.uri).rsplit("/", 1)[-1] or "file",
                              "file_data": f"data:{mime};base64,{getattr(resource, 'blob', '')}"})
        else:
            parts.append({"type": "input_text", "text": block.model_dump_json(exclude_none=True)})
    return parts


class ToolBox:
    """The tools of one runtime: entered once, kept open for the runtime's life (one MCP session per
    server, stdio servers running as child processes)."""

    def __init__(self, servers: Sequence[McpServer] = (), *, shell: bool = True, cwd: Path | None = None,
                 env: Mapping[str, str] | None = None, shell_notes: str = "",
                 startup_timeout: float = MCP_STARTUP_TIMEOUT) -> None:
        self.servers = list(servers)
        self.startup_timeout = startup_timeout
        self.shell_notes = shell_notes
        self.shell = ShellTool(cwd, env) if shell else None
        self.env = dict(env) if env is not None else dict(os.environ)
        self.cwd = cwd
        self._stack = AsyncExitStack()
        self._clients: dict[str, Client] = {}
        self._owner: dict[str, str] = {}
        self._specs: list[dict[str, Any]] = []

    async def __aenter__(self) -> ToolBox:
        try:
            if self.shell is not None:
                description = "\n\n".join(filter(None, [SHELL_DESCRIPTION, self.shell_notes]))
                self._specs.append(function_tool("shell", description, SHELL_SCHEMA))
            for server in self.servers:
                if server.url is not None:
                    await wait_for_listener(server.url, self.startup_timeout)
                client = await self._stack.enter_async_context(self._client(server))
                self._clients[server.name] = client
                listed = await client.list_tools()
                for tool in listed.tools:
                    if tool.name == "shell" and self.shell is not None:
                        raise ToolConfigurationError(f"MCP server {server.name!r} offers `shell`, the built-in "
                                                     "tool's name")
                    if tool.name in self._owner:
                        raise ToolConfigurationError(f"MCP servers {self._owner[tool.name]!r} and {server.name!r} "
                                                     f"both offer a tool named {tool.name!r}")
                    self._owner[tool.name] = server.name
                    self._specs.append(function_tool(tool.name, tool.description or "", tool.input_schema))
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def _client(self, server: McpServer) -> Client:
        from mcp import Client, StdioServerParameters

        if server.transport == "streamable_http":
            assert server.url is not None
            return Client(server.url)
        assert server.command is not None
        return Client(StdioServerParameters(command="/bin/sh", args=["-c", server.command], env=self.env,
                                            cwd=self.cwd))

    @property
    def specs(self) -> list[dict[str, Any]]:
        """The function tools to offer the model."""
        return list(self._specs)

    async def call(self, name: str, arguments: str) -> tuple[ToolOutput, bool]:
        """A tool's output and whether it failed. Failures (bad arguments, an unknown tool, an MCP error,
        a broken connection) are outputs too: the model reads them and decides what to do."""
        try:
            parsed = json.loads(arguments) if arguments.strip() else {}
        except ValueError as error:
            return json.dumps({"error": f"the arguments are not JSON: {error}"}), True
        if not isinstance(parsed, dict):
            return json.dumps({"error": "the arguments must be a JSON object"}), True
        if name == "shell" and self.shell is not None:
            output = await self.shell.run(parsed)
            return output, json.loads(output)["exit_code"] != 0
        server = self._owner.get(name)
        if server is None:
            return json.dumps({"error": f"there is no tool named {name!r}"}), True
        try:
            result = await self._clients[server].call_tool(name, parsed)
        except Exception as error:
            log.warning("MCP tool %s on %s failed: %s", name, server, error)
            return json.dumps({"error": f"the tool failed: {error or type(error).__name__}"}), True
        return mcp_output(result), bool(result.is_error)


async def wait_for_listener(url: str, timeout: float) -> None:
    """Until something accepts connections at the URL's host and port (the server has started)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise ToolConfigurationError(f"MCP server at {url} did not start within {timeout:g} s") from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


def function_tool(name: str, description: str, schema: object) -> dict[str, Any]:
    return {"type": "function", "name": name, "description": description, "parameters": sanitise_schema(schema),
            "strict": False}
