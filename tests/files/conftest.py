"""The files tests' world: a platform on local storage or on a real S3 protocol server (moto's, in server
mode, reached with the same client the platform uses in production), and an organization with members."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
import pytest_asyncio
from moto.server import ThreadedMotoServer
from PIL import Image

from tests.cli.test_cli import free_port
from tests.conftest import Api, User, running_api
from tests.threads.support import Team, make_team

FILES = "/api/v1/files"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def s3_settings(endpoint: str) -> dict[str, Any]:
    """A fresh bucket on the S3 server, and the settings that store files in it."""
    bucket = f"agyn-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    return {"s3_bucket": bucket, "s3_endpoint_url": endpoint, "s3_access_key_id": "test",
            "s3_secret_access_key": "test"}


@dataclass
class World:
    api: Api
    team: Team
    storage: str

    async def upload(self, user: User, content: bytes, filename: str = "hello.txt",
                     content_type: str | None = "text/plain", **params: Any) -> httpx.Response:
        """A multipart upload into the team's organization."""
        return await self.api.client.post(FILES, headers=user.headers,
                                          params={"organization_id": self.team.org.id, **params},
                                          files={"file": (filename, content, content_type)})

    async def uploaded(self, user: User, content: bytes, filename: str = "hello.txt",
                       content_type: str | None = "text/plain") -> dict[str, Any]:
        response = await self.upload(user, content, filename, content_type)
        assert response.status_code == 201, response.text
        return dict(response.json())


@pytest_asyncio.fixture(params=("local", "s3"))
async def world(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    files: dict[str, Any] = {"max_bytes": 1024 * 1024}
    if request.param == "s3":
        files |= s3_settings(request.getfixturevalue("s3_endpoint"))
    async with running_api(database_url, tmp_path / "data", files=files) as api:
        yield World(api, await make_team(api), request.param)


def png(width: int, height: int, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()
