"""Taking an upload in: the request body streams to a spool file on disk, hashed and counted on the way,
its first bytes kept for sniffing; a multipart body goes through a streaming parser, and only its `file`
part reaches the spool. Nothing holds the whole body in memory."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart.multipart import MultipartParser, parse_options_header

from agyn.kit.errors import InvalidArgument, PayloadTooLarge

HEAD_BYTES = 8192  # enough for every signature the sniffer knows, and to tell text from binary
WRITE_BATCH = 512 * 1024  # request chunks are small (64 KiB at most): gathered, so a thread hop is per batch


@dataclass
class Spooled:
    path: Path
    filename: str | None
    declared_type: str | None
    size: int
    sha256: str
    head: bytes


@dataclass
class Spool:
    """A file being written under `directory`: removed unless `keep` is called."""

    directory: Path
    max_bytes: int
    path: Path = field(init=False)
    size: int = 0
    head: bytes = b""
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _handle: IO[bytes] | None = None
    _batch: list[bytes] = field(default_factory=list)
    _batched: int = 0

    def __post_init__(self) -> None:
        self.path = self.directory / f"{uuid.uuid4().hex}.part"

    async def open(self) -> None:
        await asyncio.to_thread(self.directory.mkdir, parents=True, exist_ok=True)
        self._handle = await asyncio.to_thread(self.path.open, "wb")

    async def write(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(f"the file is larger than the {self.max_bytes} bytes a file may have "
                                  "(AGYN_FILES__MAX_BYTES)")
        if len(self.head) < HEAD_BYTES:
            self.head += data[:HEAD_BYTES - len(self.head)]
        self._batch.append(data)
        self._batched += len(data)
        if self._batched >= WRITE_BATCH:
            await self._flush()

    async def _flush(self) -> None:
        if not self._batch:
            return
        data = b"".join(self._batch)
        self._batch.clear()
        self._batched = 0
        assert self._handle is not None

        def write() -> None:  # hashing releases the GIL on large buffers: off the event loop too
            self._hash.update(data)
            assert self._handle is not None
            self._handle.write(data)

        await asyncio.to_thread(write)

    async def close(self) -> None:
        if self._handle is not None:
            await self._flush()
            await asyncio.to_thread(self._handle.close)
            self._handle = None

    async def discard(self) -> None:
        if self._handle is not None:
            await asyncio.to_thread(self._handle.close)
            self._handle = None
        await asyncio.to_thread(self.path.unlink, True)

    def result(self, filename: str | None, declared_type: str | None) -> Spooled:
        return Spooled(self.path, filename, declared_type, self.size, self._hash.hexdigest(), self.head)


async def spool_raw(body: AsyncIterator[bytes], spool: Spool, filename: str | None,
                    content_type: str | None) -> Spooled:
    """A raw body: the file itself."""
    await spool.open()
    async for chunk in body:
        await spool.write(chunk)
    await spool.close()
    return spool.result(filename, content_type)


class _Part:
    def __init__(self) -> None:
        self.headers: dict[bytes, bytes] = {}
        self.field = b""
        self.value = b""


async def spool_multipart(body: AsyncIterator[bytes], spool: Spool, content_type: str) -> Spooled:
    """A multipart/form-data body: its one `file` part is the file (other parts are ignored)."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidArgument.field("Content-Type", "multipart/form-data needs a boundary")
    part = _Part()
    pending: list[bytes] = []
    state: dict[str, object] = {"in_file": False, "found": False, "filename": None, "type": None, "done": False}

    def on_part_begin() -> None:
        nonlocal part
        part = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part.field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part.value += data[start:end]

    def on_header_end() -> None:
        part.headers[part.field.lower()] = part.value
        part.field, part.value = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part.headers.get(b"content-disposition", b""))
        is_file = disposition.get(b"name") == b"file" and not state["found"]
        state["in_file"] = is_file
        if is_file:
            state["found"] = True
            name = disposition.get(b"filename")
            state["filename"] = name.decode("utf-8", "replace") if name is not None else None
            declared = part.headers.get(b"content-type")
            state["type"] = declared.decode("latin-1") if declared else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state["in_file"]:
            pending.append(data[start:end])

    def on_part_end() -> None:
        state["in_file"] = False

    def on_end() -> None:
        state["done"] = True

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end, "on_end": on_end})
    await spool.open()
    try:
        async for chunk in body:
            parser.write(chunk)
            if pending:
                data = b"".join(pending)
                pending.clear()
                await spool.write(data)
        parser.finalize()
    except (ValueError, LookupError) as error:  # the parser's errors are ValueErrors
        raise InvalidArgument(f"the multipart body is malformed: {error}") from None
    await spool.close()
    if not state["found"]:
        raise InvalidArgument.field("file", "the multipart body has no part named `file`")
    if not state["done"]:
        raise InvalidArgument("the multipart body ended before its closing boundary")
    filename = state["filename"]
    declared = state["type"]
    return spool.result(filename if isinstance(filename, str) else None,
                        declared if isinstance(declared, str) else None)
