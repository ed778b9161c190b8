"""A small MCP server for the quickstart: `get_weather(location)`, always 18°C and partly cloudy (the test
LLM's `simple-tool-call` script expects exactly that answer).

    python -m agyn.agent_runtime.weather_mcp

serves over Streamable HTTP on `MCP_PORT` (path `/mcp`), as the local runner starts an agent's MCP
servers, or over stdio without it.
"""

from __future__ import annotations

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("weather")


@server.tool()
def get_weather(location: str) -> dict[str, str]:
    """The current weather at a location."""
    return {"temperature": "18°C", "condition": "partly cloudy"}


def main() -> None:
    port = os.environ.get("MCP_PORT")
    if port:
        server.run("streamable-http", host="127.0.0.1", port=int(port))
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
