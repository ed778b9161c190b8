"""Where a file's bytes live, under its id: a local directory, or an S3-compatible bucket.

An upload is first spooled to a local file (hashed, sized and sniffed on the way), then stored with
`put`; reads stream a byte range in chunks. Neither holds a whole file in memory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, Protocol

from agyn.settings import FilesSettings

CHUNK = 512 * 1024  # per read: large enough that a thread hop per chunk costs little, small enough to stream
S3_PART = 8 * 1024 * 1024  # S3 parts must be at least 5 MiB (but the last)


class StorageError(Exception):
    """The storage failed (not the caller's fault): a 502 for the caller."""


class Storage(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def put(self, key: str, source: Path, size: int) -> None:
        """Store the spooled file `source` under `key` (the spool is the caller's to remove)."""

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` (inclusive) of `key`, in chunks."""
        ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        return self.directory / key[-2:] / key

    async def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    async def stop(self) -> None:
        pass

    async def put(self, key: str, source: Path, size: int) -> None:
        def move() -> None:
            target = self.path(key)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)  # the spool lives on the same file system: atomic, no copy

        await asyncio.to_thread(move)

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(open, self.path(key), "rb")
        except OSError as error:
            raise StorageError(f"file {key} cannot be read: {error.strerror}") from None
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
                if not chunk:
                    raise StorageError(f"file {key} is shorter than its record says")
                remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, True)


class S3Storage:
    """One bucket, object key = file id; the client is opened at start and closed at stop."""

    def __init__(self, settings: FilesSettings) -> None:
        self.settings = settings
        self.bucket = settings.s3_bucket or ""
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def start(self) -> None:
        from aiobotocore.session import get_session

        settings = self.settings
        self._client = await self._stack.enter_async_context(get_session().create_client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.s3_region,
            aws_access_key_id=settings.s3_access_key_id.get_secret_value() if settings.s3_access_key_id else None,
            aws_secret_access_key=(settings.s3_secret_access_key.get_secret_value()
                                   if settings.s3_secret_access_key else None)))

    async def stop(self) -> None:
        await self._stack.aclose()

    async def put(self, key: str, source: Path, size: int) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            with source.open("rb") as handle:
                if size <= S3_PART:
                    body = await asyncio.to_thread(handle.read)
                    await self._client.put_object(Bucket=self.bucket, Key=key, Body=body)
                    return
                await self._put_in_parts(key, handle)
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"S3 refused file {key}: {error}") from None

    async def _put_in_parts(self, key: str, handle: Any) -> None:
        upload = await self._client.create_multipart_upload(Bucket=self.bucket, Key=key)
        upload_id = upload["UploadId"]
        try:
            parts: list[dict[str, Any]] = []
            while part := await asyncio.to_thread(handle.read, S3_PART):
                number = len(parts) + 1
                sent = await self._client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                      PartNumber=number, Body=part)
                parts.append({"PartNumber": number, "ETag": sent["ETag"]})
            await self._client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                         MultipartUpload={"Parts": parts})
        except BaseException:
            await self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            found = await self._client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"S3 cannot read file {key}: {error}") from None
        async with found["Body"] as body:
            while chunk := await body.read(CHUNK):
                yield chunk

    async def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            await self._client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            raise StorageError(f"S3 cannot delete file {key}: {error}") from None


def storage_for(settings: FilesSettings, data_dir: Path) -> Storage:
    if settings.s3_bucket:
        return S3Storage(settings)
    return LocalStorage(settings.directory or data_dir / "files")
