"""Upload, read, sign and delete files. Uploads and downloads stream: they authenticate and authorize in
a short transaction of their own, and hold no database session while bytes flow."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from agyn.api.dependencies import PrincipalDep, SessionDep, authenticate_briefly, service
from agyn.files.ingest import spool_multipart, spool_raw
from agyn.files.models import File
from agyn.files.ranges import parse_range
from agyn.files.schemas import FileRead, SignedUrl, SignedUrlRequest
from agyn.files.service import FilesService
from agyn.kit.http import TransactionalRoute
from agyn.kit.platform import platform_of
from agyn.kit.routing import ModuleRouter

router = ModuleRouter(prefix="/api/v1", route_class=TransactionalRoute, tags=["files"])
streaming = ModuleRouter(prefix="/api/v1", tags=["files"])
Files = Annotated[FilesService, Depends(service(FilesService))]
INLINE_TYPES = ("image/", "audio/", "video/", "text/plain")
"""Shown in place by a browser; everything else downloads (an uploaded HTML page must never run)."""


@streaming.post("/files", status_code=status.HTTP_201_CREATED, response_model=FileRead,
                summary="Upload a file: multipart/form-data with a `file` part, or the raw bytes with "
                        "Content-Type and ?filename=",
                openapi_extra={"requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                        "file": {"type": "string", "format": "binary"}}}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_file(request: Request, organization_id: Annotated[uuid.UUID, Query()],
                      filename: Annotated[str | None, Query(max_length=1024)] = None) -> FileRead:
    principal = await authenticate_briefly(request)
    files = platform_of(request).get(FilesService)
    await files.require_uploader(principal, organization_id)
    content_type = request.headers.get("content-type", "")
    spool = files.spool()
    try:
        if content_type.lower().startswith("multipart/form-data"):
            spooled = await spool_multipart(request.stream(), spool, content_type)
            if filename:
                spooled.filename = filename
        else:
            spooled = await spool_raw(request.stream(), spool, filename, content_type or None)
        file = await files.store(principal, organization_id, spooled)
    finally:
        await spool.discard()
    return FileRead.model_validate(file)


@router.get("/files/{file_id}", response_model=FileRead, summary="Get a file's metadata")
async def get_file(file_id: uuid.UUID, principal: PrincipalDep, files: Files, session: SessionDep) -> FileRead:
    return FileRead.model_validate(await files.get(session, principal, file_id))


@streaming.get("/files/{file_id}/content", summary="Download a file (honours Range); with a signed URL's "
                                                   "`expires` and `signature`, no token is needed",
               response_class=StreamingResponse, responses={206: {"description": "Partial content"}})
async def download_file(request: Request, file_id: uuid.UUID,
                        expires: Annotated[str | None, Query()] = None,
                        signature: Annotated[str | None, Query()] = None) -> Response:
    platform = platform_of(request)
    files = platform.get(FilesService)
    if signature is not None or expires is not None:
        async with platform.database.transaction() as session:
            file = await files.get_signed(session, file_id, expires or "", signature or "")
    else:
        principal = await authenticate_briefly(request)
        async with platform.database.transaction() as session:
            file = await files.get(session, principal, file_id)
    return await file_response(files, file, request.headers.get("range"))


async def file_response(files: FilesService, file: File, range_header: str | None, *,
                        headers: dict[str, str] | None = None) -> StreamingResponse:
    """The file's bytes (one range of them, for a `Range`), streamed."""
    wanted = parse_range(range_header, file.size_bytes)
    start, end = (wanted.start, wanted.end) if wanted else (0, file.size_bytes - 1)
    body = await files.open(file, start, end)
    disposition = "inline" if file.content_type.startswith(INLINE_TYPES) else "attachment"
    response_headers = {
        "Accept-Ranges": "bytes", "Content-Length": str(end - start + 1 if file.size_bytes else 0),
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file.filename)}",
        "X-Content-Type-Options": "nosniff", "ETag": f'"{file.sha256}"', **(headers or {})}
    if wanted:
        response_headers["Content-Range"] = wanted.content_range
    return StreamingResponse(_stream(body), status_code=206 if wanted else 200, media_type=file.content_type,
                             headers=response_headers)


async def _stream(body: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in body:
        yield chunk


@router.post("/files/{file_id}/url", response_model=SignedUrl,
             summary="A download URL that works without a token until it expires (default 15 minutes)")
async def sign_file_url(file_id: uuid.UUID, principal: PrincipalDep, files: Files, session: SessionDep,
                        request: Request, data: SignedUrlRequest | None = None) -> SignedUrl:
    file = await files.get(session, principal, file_id)
    path, expires_at = files.signed_path(file, data.expires_in_seconds if data else None)
    return SignedUrl(url=str(request.base_url).rstrip("/") + path, expires_at=expires_at)


@router.delete("/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT,
               summary="Delete a file (its uploader, the organization's owners)")
async def delete_file(file_id: uuid.UUID, principal: PrincipalDep, files: Files, session: SessionDep) -> Response:
    file = await files.get(session, principal, file_id)
    await files.delete(session, principal, file)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
