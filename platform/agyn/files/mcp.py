"""`agyn mcp files`: the files MCP server an agent declares to read the files its messages carry.

One tool, `read_file(file_id)`: images come back as MCP image content, text as text, anything else as an
embedded resource blob; failures are tool errors a model can read ("file not found: <id>", "file too
large: ..."). It reads through the platform's API with the workload's token, so a workload reads only
the files its own thread's messages carry.

Environment: `AGYN_PLATFORM_URL` (or `AGYN_API_URL`), `AGYN_WORKLOAD_TOKEN` (or `AGYN_API_TOKEN`),
`MAX_FILE_SIZE` (bytes, default 10 MiB); Streamable HTTP on `MCP_PORT` (path `/mcp`, host `MCP_HOST`,
default 127.0.0.1), else stdio.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from mcp.server.mcpserver import MCPServer
from mcp_types import (
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    TextContent,
)

from agyn.files.sniffing import is_text_type

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
"""What models take as images; other image types (TIFF, BMP ...) come back as blobs."""


class FilesMcpConfigError(ValueError):
    pass


@dataclass(frozen=True)
class FilesMcpConfig:
    platform_url: str
    token: str
    max_bytes: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> FilesMcpConfig:
        url = environ.get("AGYN_PLATFORM_URL") or environ.get("AGYN_API_URL")
        token = environ.get("AGYN_WORKLOAD_TOKEN") or environ.get("AGYN_API_TOKEN")
        if not url or not token:
            raise FilesMcpConfigError("set AGYN_PLATFORM_URL and AGYN_WORKLOAD_TOKEN (a workload's), or "
                                      "AGYN_API_URL and AGYN_API_TOKEN")
        try:
            max_bytes = int(environ.get("MAX_FILE_SIZE") or DEFAULT_MAX_BYTES)
        except ValueError:
            raise FilesMcpConfigError("MAX_FILE_SIZE must be a number of bytes") from None
        return cls(url.rstrip("/"), token, max_bytes)


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def content_for(file_id: uuid.UUID, content_type: str, data: bytes) -> ContentBlock:
    if content_type in IMAGE_TYPES:
        return ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type=content_type)
    if is_text_type(content_type):
        return TextContent(type="text", text=data.decode("utf-8", errors="replace"))
    return EmbeddedResource(type="resource", resource=BlobResourceContents(
        uri=f"agyn://file/{file_id}", mime_type=content_type, blob=base64.b64encode(data).decode()))


async def read_platform_file(client: httpx.AsyncClient, file_id: str, max_bytes: int) -> CallToolResult:
    """The tool's work: metadata first (the size limit), then the content."""
    try:
        parsed = uuid.UUID(file_id.removeprefix("agyn://file/"))
    except ValueError:
        return _error(f"file not found: {file_id}")
    try:
        metadata = await client.get(f"/api/v1/files/{parsed}")
        if metadata.status_code == 404:
            return _error(f"file not found: {parsed}")
        if metadata.status_code != 200:
            return _error(f"failed to download file: the platform answered {metadata.status_code}")
        found = metadata.json()
        if found["size_bytes"] > max_bytes:
            return _error(f"file too large: {found['filename']} is {found['size_bytes']} bytes, more than the "
                          f"{max_bytes} this tool reads")
        content = await client.get(f"/api/v1/files/{parsed}/content")
        if content.status_code != 200:
            return _error(f"failed to download file: the platform answered {content.status_code}")
    except httpx.TransportError:
        return _error("platform service unavailable")
    return CallToolResult(content=[content_for(parsed, found["content_type"], content.content)])


def build_server(config: FilesMcpConfig) -> MCPServer:
    server = MCPServer("files")
    headers = {"Authorization": f"Bearer {config.token}"}

    @server.tool()
    async def read_file(file_id: str) -> CallToolResult:
        """Read a file attached to a message (its `agyn://file/<id>` line, or the bare id): images come back
        as images, text as text, anything else as a binary resource."""
        async with httpx.AsyncClient(base_url=config.platform_url, headers=headers, timeout=60) as client:
            return await read_platform_file(client, file_id, config.max_bytes)

    return server


def serve(environ: Mapping[str, str]) -> None:
    server = build_server(FilesMcpConfig.from_environ(environ))
    port = environ.get("MCP_PORT")
    if port:
        server.run("streamable-http", host=environ.get("MCP_HOST", "127.0.0.1"), port=int(port))
    else:
        server.run("stdio")
