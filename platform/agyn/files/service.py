"""Files: who may upload, read and delete them, and which files a message may carry.

Rules: uploading takes `member` of the organization. Reading takes `can_read` on the file: its
organization's members, its uploader, and whoever may read a thread one of whose messages carries it.
A workload reads only the files its own thread's messages carry. Deleting takes `can_delete` (the
uploader, the organization's owners). A message may carry only files of its thread's organization
that its sender may read. Files nobody may read are not found (404), never forbidden.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.authorization.engine import TupleKey
from agyn.authorization.service import AuthorizationService
from agyn.files import repository, signing
from agyn.files.ingest import Spool, Spooled
from agyn.files.models import Attachment, File
from agyn.files.sniffing import decide
from agyn.files.storage import Storage, StorageError, storage_for
from agyn.kit.db import after_commit
from agyn.kit.errors import InvalidArgument, NotFound, PermissionDenied, ProblemError
from agyn.kit.ids import uuid7
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.settings import Settings

log = logging.getLogger("agyn.files")
MAX_FILENAME = 255
UNSAFE_IN_NAMES = re.compile(r"[\x00-\x1f\x7f/\\]")


class StorageUnavailable(ProblemError):
    status, code, title = 502, "storage_unavailable", "Storage unavailable"


def clean_filename(name: str | None) -> str:
    """The last path segment of `name`, without control characters, at most 255 characters."""
    if not name:
        raise InvalidArgument.field("filename", "is required: the multipart part's filename, or ?filename=")
    base = re.split(r"[/\\]", name)[-1]
    cleaned = UNSAFE_IN_NAMES.sub("_", base).strip()
    if not cleaned or cleaned in {".", ".."}:
        raise InvalidArgument.field("filename", f"{name!r} is not a file name")
    return cleaned[:MAX_FILENAME]


class FilesService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.authz = platform.get(AuthorizationService)
        settings = platform.get(Settings)
        self.settings = settings.files
        self.storage: Storage = storage_for(self.settings, settings.data_dir)
        self.spool_directory = (self.settings.directory or settings.data_dir / "files") / ".incoming"

    async def start(self) -> None:
        await self.storage.start()

    async def stop(self) -> None:
        await self.storage.stop()

    # --- uploads -----------------------------------------------------------------------------

    async def require_uploader(self, principal: Principal, organization_id: uuid.UUID) -> None:
        """Before a byte is read: may the caller upload into this organization?"""
        organization = objects.organization(organization_id)
        if await self.authz.check(principal, "member", organization):
            return
        if await self.authz.check(principal, "can_view", organization):
            raise PermissionDenied("only the organization's members may upload files to it")
        raise InvalidArgument.field("organization_id", f"no organization {organization_id} exists, or you cannot "
                                                       "see it")

    def spool(self) -> Spool:
        return Spool(self.spool_directory, self.settings.max_bytes)

    async def store(self, principal: Principal, organization_id: uuid.UUID, spooled: Spooled) -> File:
        """Record and store a spooled upload: the row and the authorization tuples commit only once the
        bytes are stored; bytes stored for a row that then fails to commit are deleted again."""
        filename = clean_filename(spooled.filename)
        content_type = decide(spooled.head, spooled.declared_type)
        file = File(id=uuid7(), organization_id=organization_id, uploader_id=principal.identity_id,
                    filename=filename, content_type=content_type, size_bytes=spooled.size, sha256=spooled.sha256)
        key = str(file.id)
        try:
            await self.storage.put(key, spooled.path, spooled.size)
        except StorageError as error:
            raise StorageUnavailable(str(error)) from None
        try:
            async with self.platform.database.transaction() as session:
                session.add(file)
                await session.flush()
                name = objects.file(file.id)
                await self.authz.write(session, [
                    TupleKey(objects.organization(organization_id), "org", name),
                    TupleKey(objects.identity(principal.identity_id), "uploader", name)])
        except BaseException:
            try:
                await self.storage.delete(key)
            except StorageError:
                log.warning("the bytes of file %s, whose record failed, stay in storage", key, exc_info=True)
            raise
        return file

    # --- reads -------------------------------------------------------------------------------

    async def get(self, session: AsyncSession, principal: Principal, file_id: uuid.UUID) -> File:
        """A file the caller may read; else 404."""
        file = await session.get(File, file_id)
        if file is None or not await self.may_read(session, principal, file):
            raise NotFound(f"file {file_id} not found")
        return file

    async def may_read(self, session: AsyncSession, principal: Principal, file: File) -> bool:
        if principal.scope is not None:  # a workload: the files its own thread's messages carry
            return await session.get(Attachment, (file.id, principal.scope.thread_id)) is not None
        return await self.authz.check(principal, "can_read", objects.file(file.id))

    async def get_signed(self, session: AsyncSession, file_id: uuid.UUID, expires: str, signature: str) -> File:
        """The file a signed URL names, while the URL is valid; else 404 (an expired link finds nothing)."""
        try:
            expiry = int(expires)
        except ValueError:
            raise InvalidArgument.field("expires", "must be unix seconds") from None
        key = self.platform.require_cipher().derive_key(signing.PURPOSE)
        file = await session.get(File, file_id)
        if file is None or not signing.is_valid(key, file_id, expiry, signature, time.time()):
            raise NotFound(f"file {file_id} not found, or this link expired: ask for a new one")
        return file

    def signed_path(self, file: File, expires_in: int | None) -> tuple[str, datetime]:
        """The path and query of a download URL that needs no token, and when it stops working."""
        expires = int(time.time()) + (expires_in or self.settings.url_ttl_seconds)
        key = self.platform.require_cipher().derive_key(signing.PURPOSE)
        path = (f"/api/v1/files/{file.id}/content?expires={expires}"
                f"&signature={signing.signature(key, file.id, expires)}")
        return path, datetime.fromtimestamp(expires, UTC)

    async def open(self, file: File, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start`..`end` of the file, with the first chunk already read (so a storage failure
        is a 502 before any response starts)."""
        if file.size_bytes == 0 or end < start:
            return _chunks(b"", _empty())
        chunks = self.storage.read(str(file.id), start, end)
        try:
            first = await anext(chunks, b"")
        except StorageError as error:
            raise StorageUnavailable(str(error)) from None
        return _chunks(first, chunks)

    # --- deletes -----------------------------------------------------------------------------

    async def delete(self, session: AsyncSession, principal: Principal, file: File) -> None:
        if not await self.authz.check(principal, "can_delete", objects.file(file.id)):
            raise PermissionDenied("only the file's uploader and the organization's owners may delete it")
        await session.delete(file)
        await session.flush()
        await self.authz.delete_object(session, objects.file(file.id))
        key = str(file.id)
        after_commit(session, lambda: self.storage.delete(key), what="file bytes")

    # --- attachments -------------------------------------------------------------------------

    async def attach(self, session: AsyncSession, principal: Principal, thread_id: uuid.UUID,
                     organization_id: uuid.UUID, file_ids: Sequence[uuid.UUID]) -> None:
        """Let the thread's readers read these files: each one of the thread's organization, readable by
        the sender (else 400, naming the file)."""
        wanted = list(dict.fromkeys(file_ids))
        if not wanted:
            return
        found = await repository.files_by_id(session, wanted)
        for file_id in wanted:
            file = found.get(file_id)
            if file is None or file.organization_id != organization_id or \
                    not await self.may_read(session, principal, file):
                raise InvalidArgument.field("file_ids", f"{file_id}: no such file in this thread's organization, "
                                                        "or you cannot read it")
        fresh = await repository.attach_new(session, thread_id, wanted)
        await self.authz.write(session, [TupleKey(objects.thread(thread_id), "attached_in", objects.file(file_id))
                                         for file_id in fresh])


async def _empty() -> AsyncIterator[bytes]:
    return
    yield b""


async def _chunks(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk
