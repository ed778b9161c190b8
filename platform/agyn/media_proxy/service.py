"""The media proxy: platform files (`agyn://file/<id>`, any type, the caller's read access) and external
http(s) media (image, audio, video; see fetch.py), images downsampled to `size` on request."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
from fastapi.responses import Response, StreamingResponse

from agyn.files.endpoints import file_response
from agyn.files.service import FilesService
from agyn.kit.errors import InvalidArgument
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.media_proxy.errors import MediaTooLarge, UpstreamFailed, UpstreamTimeout
from agyn.media_proxy.fetch import Fetcher
from agyn.media_proxy.images import downsample
from agyn.settings import Settings

FILE_SCHEME = "agyn://file/"
CACHE_CONTROL = "private, max-age=3600"


class MediaProxy:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.settings = platform.get(Settings).media
        self.files = platform.get(FilesService)
        self.fetcher = Fetcher(self.settings)

    async def start(self) -> None:
        self.fetcher.open()

    async def stop(self) -> None:
        await self.fetcher.close()

    def check_size(self, size: int | None) -> None:
        if size is not None and not 1 <= size <= self.settings.max_size:
            raise InvalidArgument.field("size", f"must be 1 to {self.settings.max_size} pixels")

    async def platform_file(self, principal: Principal, url: str, size: int | None,
                            range_header: str | None) -> Response:
        try:
            file_id = uuid.UUID(url[len(FILE_SCHEME):])
        except ValueError:
            raise InvalidArgument.field("url", "agyn://file/ must be followed by a file id") from None
        async with self.platform.database.transaction() as session:
            file = await self.files.get(session, principal, file_id)
        if size is not None and file.content_type.startswith("image/"):
            if file.size_bytes > self.settings.max_bytes:
                raise MediaTooLarge(f"the image is {file.size_bytes} bytes, more than the {self.settings.max_bytes} "
                                    "the proxy resizes; ask without `size`")
            data = b"".join([chunk async for chunk in await self.files.open(file, 0, file.size_bytes - 1)])
            return await self._image(data, file.content_type, size)
        return await file_response(self.files, file, range_header, headers={"Cache-Control": CACHE_CONTROL})

    async def external(self, url: str, size: int | None, range_header: str | None) -> Response:
        upstream = await self.fetcher.fetch(url, None if size is not None else range_header)
        if upstream.content_type.startswith("image/") and size is not None:
            try:
                async with asyncio.timeout(self.settings.timeout_seconds):
                    data = await upstream.read_all(self.settings.max_bytes)
            except TimeoutError:
                raise UpstreamTimeout("the image did not arrive in time") from None
            except aiohttp.ClientError as error:
                raise UpstreamFailed(f"the image cannot be read: {error.__class__.__name__}") from None
            finally:
                upstream.close()
            return await self._image(data, upstream.content_type, size)
        headers = {"Cache-Control": CACHE_CONTROL, "Content-Disposition": "inline", "X-Content-Type-Options": "nosniff",
                   "Accept-Ranges": upstream.response.headers.get("accept-ranges", "none")}
        for name in ("content-length", "content-range"):
            if name in upstream.response.headers:
                headers[name.title()] = upstream.response.headers[name]
        return StreamingResponse(upstream.stream(self.settings.max_bytes), status_code=upstream.response.status,
                                 media_type=upstream.content_type, headers=headers)

    async def _image(self, data: bytes, content_type: str, size: int) -> Response:
        resized = await asyncio.to_thread(downsample, data, size, self.settings.max_image_pixels)
        body, media_type = resized if resized is not None else (data, content_type)
        return Response(body, media_type=media_type, headers={
            "Cache-Control": CACHE_CONTROL, "Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"})
