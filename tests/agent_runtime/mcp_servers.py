"""Small real MCP servers for the runtime's tests, written with the official SDK.

    python -m tests.agent_runtime.mcp_servers NAME

serves over Streamable HTTP on `MCP_PORT` (path `/mcp`) when that is set, else over stdio.

- `weather`: `get_weather(location)`; always 18°C and partly cloudy.
- `memory`: `create_entities(entities)`; keeps them in memory and returns them.
- `filesystem`: `list_directory(path)`; lists a real directory, `path` taken under `MCP_FS_ROOT`.
- `slow`: `slow_step(seconds)`; sleeps and answers, noting `start` and `done` in `MCP_SLOW_LOG`.
- `faulty`: `explode(reason)`; always fails.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any, TypedDict

from mcp.server.mcpserver import MCPServer
from pydantic import BaseModel, Field


class Entity(BaseModel):
    name: str
    entityType: str
    observations: list[str] = Field(default_factory=list)


class Listing(TypedDict):
    content: str


def weather() -> MCPServer:
    server = MCPServer("weather")

    @server.tool()
    def get_weather(location: str) -> dict[str, Any]:
        """The current weather at a location."""
        return {"temperature": "18°C", "condition": "partly cloudy"}

    return server


def memory() -> MCPServer:
    server = MCPServer("memory")
    graph: dict[str, Entity] = {}

    @server.tool()
    def create_entities(entities: list[Entity]) -> dict[str, Any]:
        """Create entities in the knowledge graph."""
        for entity in entities:
            graph[entity.name] = entity
        return {"entities": [entity.model_dump() for entity in entities]}

    return server


def filesystem() -> MCPServer:
    server = MCPServer("filesystem")
    root = Path(os.environ.get("MCP_FS_ROOT", "/"))

    @server.tool()
    def list_directory(path: str) -> Listing:
        """List the files and directories in a directory."""
        directory = root / path.lstrip("/")
        lines = [f"[{'DIR' if child.is_dir() else 'FILE'}] {child.name}" for child in sorted(directory.iterdir())]
        return {"content": "\n".join(lines)}

    return server


def note(what: str) -> None:
    log = os.environ.get("MCP_SLOW_LOG")
    if log:
        with open(log, "a") as out:
            out.write(f"{what} {time.time()}\n")


def slow() -> MCPServer:
    server = MCPServer("slow")

    @server.tool()
    async def slow_step(seconds: float) -> str:
        """Wait, then say done."""
        note("start")
        await asyncio.sleep(seconds)
        note("done")
        return "done"

    return server


def faulty() -> MCPServer:
    server = MCPServer("faulty")

    @server.tool()
    def explode(reason: str) -> str:
        """Always fails."""
        raise RuntimeError(reason)

    return server


SERVERS = {"weather": weather, "memory": memory, "filesystem": filesystem, "slow": slow, "faulty": faulty}


def main() -> None:
    server = SERVERS[sys.argv[1]]()
    port = os.environ.get("MCP_PORT")
    if port:
        server.run("streamable-http", host="127.0.0.1", port=int(port))
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
