"""Fetching external media without letting a URL reach the platform's own network: names are resolved
first and refused if any address is private (the connection goes to the checked addresses), address
literals are checked as they are, and every redirect is checked again, at most `max_redirects` of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import aiohttp

from agyn.kit.errors import UnsupportedMediaType
from agyn.media_proxy.errors import MediaTooLarge, SsrfRefused, UpstreamFailed, UpstreamTimeout
from agyn.media_proxy.guard import AddressRefused, Guard, GuardedResolver
from agyn.settings import MediaSettings

MEDIA_KINDS = ("image/", "audio/", "video/")
REFUSED_TYPES = {"image/svg+xml"}  # a document that can run script, not a picture
REDIRECTS = {301, 302, 303, 307, 308}
CHUNK = 64 * 1024


@dataclass
class Upstream:
    """A media response, its body not yet read (close it)."""

    response: aiohttp.ClientResponse
    content_type: str

    async def read_all(self, limit: int) -> bytes:
        body = bytearray()
        async for chunk in self.response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > limit:
                raise MediaTooLarge(f"the media is larger than the {limit} bytes the proxy relays")
        return bytes(body)

    async def stream(self, limit: int) -> AsyncIterator[bytes]:
        sent = 0
        try:
            async for chunk in self.response.content.iter_chunked(CHUNK):
                sent += len(chunk)
                if sent > limit:  # the status is sent: all that is left is to stop
                    return
                yield chunk
        finally:
            self.response.release()

    def close(self) -> None:
        self.response.release()


class Fetcher:
    def __init__(self, settings: MediaSettings) -> None:
        self.settings = settings
        self.guard = Guard(settings)
        self._session: aiohttp.ClientSession | None = None

    def open(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.guard), use_dns_cache=False, limit=100)
        timeout = aiohttp.ClientTimeout(total=None, connect=self.settings.timeout_seconds,
                                        sock_read=self.settings.timeout_seconds)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                              headers={"User-Agent": "agyn-media-proxy"})

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, url: str, range_header: str | None) -> Upstream:
        """The media at `url`, redirects followed and checked; 415 for what is not image, audio or video."""
        assert self._session is not None, "the media proxy is not started"
        headers = {"Range": range_header} if range_header else {}
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                for _ in range(self.settings.max_redirects + 1):
                    self._check(url)
                    response = await self._session.get(url, headers=headers, allow_redirects=False)
                    if response.status in REDIRECTS and "location" in response.headers:
                        response.release()
                        url = urljoin(url, response.headers["location"])
                        continue
                    return self._accept(response)
                raise UpstreamFailed(f"more than {self.settings.max_redirects} redirects")
        except AddressRefused as error:
            raise SsrfRefused(str(error)) from None
        except TimeoutError:
            raise UpstreamTimeout(f"the media did not arrive within {self.settings.timeout_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise UpstreamFailed(f"the media cannot be fetched: {error.__class__.__name__}") from None

    def _check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SsrfRefused(f"only http and https URLs are proxied, not {parts.scheme or 'this'}")
        self.guard.check_literal(parts.hostname)

    def _accept(self, response: aiohttp.ClientResponse) -> Upstream:
        if response.status not in (200, 206):
            response.release()
            raise UpstreamFailed(f"the media's server answered {response.status}")
        content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not content_type.startswith(MEDIA_KINDS) or content_type in REFUSED_TYPES:
            response.release()
            raise UnsupportedMediaType(f"{content_type or 'an untyped response'} is not an image, audio or video")
        length = response.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.settings.max_bytes:
            response.release()
            raise MediaTooLarge(f"the media is {length} bytes, more than the {self.settings.max_bytes} the proxy "
                                "relays")
        return Upstream(response, content_type)
