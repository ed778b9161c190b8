"""The media proxy over HTTP: platform files by the caller's access (any type, ranges, resizing), external
media from a local server the settings allow, every SSRF vector refused before a connection is made, and
images that would decode to more pixels than allowed refused without decoding them."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest_asyncio
from aiohttp import web
from PIL import Image

from tests.cli.test_cli import free_port
from tests.conftest import Api, assert_problem, running_api
from tests.files.conftest import FILES, png
from tests.threads.support import Team, make_team

PROXY = "/media/proxy"
AUDIO = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40
ALLOWED_HOST = "127.0.0.2"  # the "external" server: the one address the settings let the proxy reach


@dataclass
class Upstream:
    """A local web server serving media, pages, redirects and slow answers; it notes every path asked."""

    host: str
    port: int
    seen: list[str] = field(default_factory=list)

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"


async def start_upstream(host: str, tmp: Path) -> tuple[web.AppRunner, Upstream]:
    port = free_port()
    upstream = Upstream(host, port)
    audio = tmp / "sound.mp3"
    audio.write_bytes(AUDIO)

    @web.middleware
    async def note(request: web.Request, handler: Any) -> web.StreamResponse:
        upstream.seen.append(request.path)
        return await handler(request)

    async def image(request: web.Request) -> web.Response:
        return web.Response(body=png(400, 200), content_type="image/png")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>hi</html>", content_type="text/html")

    async def big(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00" * 300_000, content_type="image/png")

    async def slow(request: web.Request) -> web.Response:
        import asyncio

        await asyncio.sleep(3)
        return web.Response(body=png(2, 2), content_type="image/png")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    async def hops(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        if left == 0:
            return await image(request)
        raise web.HTTPFound(f"/hops/{left - 1}")

    async def missing(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    app = web.Application(middlewares=[note])
    app.add_routes([web.get("/image.png", image), web.get("/page", page), web.get("/big.png", big),
                    web.get("/slow.png", slow), web.get("/redirect", redirect), web.get("/hops/{n}", hops),
                    web.get("/missing.png", missing), web.static("/static", tmp)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner, upstream


@dataclass
class World:
    api: Api
    team: Team
    upstream: Upstream
    loopback: Upstream  # a server on 127.0.0.1: the address every SSRF vector below aims at

    async def proxy(self, url: str | None, user: Any = None, **params: Any) -> Any:
        headers = {**(user or self.team.bob).headers, **params.pop("headers", {})}
        return await self.api.client.get(PROXY, headers=headers,
                                         params={**({"url": url} if url is not None else {}), **params})


@pytest_asyncio.fixture
async def world(database_url: str, tmp_path: Path) -> AsyncIterator[World]:
    (tmp_path / "up").mkdir()
    (tmp_path / "lo").mkdir()
    runner, upstream = await start_upstream(ALLOWED_HOST, tmp_path / "up")
    loop_runner, loopback = await start_upstream("127.0.0.1", tmp_path / "lo")
    media = {"allow_networks": [f"{ALLOWED_HOST}/32"], "timeout_seconds": 1.5, "max_bytes": 200_000,
             "max_image_pixels": 10_000_000}
    try:
        async with running_api(database_url, tmp_path / "data", media=media) as api:
            yield World(api, await make_team(api), upstream, loopback)
    finally:
        await runner.cleanup()
        await loop_runner.cleanup()


async def upload(world: World, content: bytes, filename: str, content_type: str) -> dict[str, Any]:
    response = await world.api.client.post(FILES, headers=world.team.bob.headers,
                                           params={"organization_id": world.team.org.id},
                                           files={"file": (filename, content, content_type)})
    assert response.status_code == 201, response.text
    return dict(response.json())


def decoded(body: bytes) -> Image.Image:
    return Image.open(io.BytesIO(body))


async def test_a_platform_file_is_proxied_resized_and_ranged_for_its_readers(world: World) -> None:
    image = png(40, 20)
    file = await upload(world, image, "red.png", "image/png")
    url = f"agyn://file/{file['id']}"
    whole = await world.proxy(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "image/png" and whole.content == image
    assert whole.headers["cache-control"] == "private, max-age=3600"
    assert whole.headers["access-control-allow-origin"] == "*"
    small = await world.proxy(url, size=10)
    assert small.status_code == 200 and decoded(small.content).size == (10, 5)  # aspect kept
    ranged = await world.proxy(url, headers={"Range": "bytes=0-10"})
    assert ranged.status_code == 206 and ranged.headers["content-range"].startswith("bytes 0-10/")
    assert ranged.content == image[:11]
    text = await upload(world, b"plain words\n", "a.txt", "text/plain")  # any type, for platform files
    assert (await world.proxy(f"agyn://file/{text['id']}")).content == b"plain words\n"

    assert_problem(await world.proxy(url, user=world.team.outsider), 404, "not_found")
    assert_problem(await world.proxy("agyn://file/00000000-0000-7000-8000-000000000000"), 404, "not_found")
    assert_problem(await world.api.client.get(PROXY, params={"url": url}), 401, "unauthenticated")
    assert_problem(await world.api.client.get(PROXY, params={"url": url}, headers={"Authorization": "Bearer invalid"}),
                   401, "unauthenticated")
    assert_problem(await world.proxy(None), 400, "invalid_argument")
    assert_problem(await world.proxy("ftp://example.com/x.png"), 400, "invalid_argument")
    assert_problem(await world.proxy(url, size=0), 400, "invalid_argument")


async def test_an_allowed_external_image_is_relayed_and_resized(world: World) -> None:
    found = await world.proxy(world.upstream.url("/image.png"))
    assert found.status_code == 200, found.text
    assert found.headers["content-type"] == "image/png" and decoded(found.content).size == (400, 200)
    resized = await world.proxy(world.upstream.url("/image.png"), size=100)
    assert resized.status_code == 200 and decoded(resized.content).size == (100, 50)
    followed = await world.proxy(world.upstream.url("/hops/3"), size=50)  # three redirects: allowed
    assert followed.status_code == 200 and decoded(followed.content).size == (50, 25)


async def test_external_failures_have_their_status_codes(world: World) -> None:
    assert_problem(await world.proxy(world.upstream.url("/page")), 415, "unsupported_media_type")
    assert_problem(await world.proxy(world.upstream.url("/missing.png")), 502, "upstream_failed")
    assert_problem(await world.proxy(world.upstream.url("/big.png")), 413, "media_too_large")
    assert_problem(await world.proxy(world.upstream.url("/hops/4")), 502, "upstream_failed")  # a fourth redirect
    assert_problem(await world.proxy(world.upstream.url("/slow.png")), 504, "upstream_timeout")
    closed = free_port()
    assert_problem(await world.proxy(f"http://{ALLOWED_HOST}:{closed}/x.png"), 502, "upstream_failed")


async def test_audio_ranges_are_relayed(world: World) -> None:
    url = world.upstream.url("/static/sound.mp3")
    whole = await world.proxy(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "audio/mpeg" and whole.content == AUDIO
    for header, start, end in (("bytes=0-1", 0, 1), ("bytes=5000-5999", 5000, 5999),
                               (f"bytes={len(AUDIO) - 4}-", len(AUDIO) - 4, len(AUDIO) - 1)):
        part = await world.proxy(url, headers={"Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{len(AUDIO)}"
        assert part.content == AUDIO[start:end + 1]


async def test_every_ssrf_vector_is_refused_before_a_connection(world: World) -> None:
    port = world.loopback.port
    vectors = [
        f"http://127.0.0.1:{port}/image.png",  # loopback
        "http://10.0.0.1/image.png",  # private
        "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        f"http://[::1]:{port}/image.png",  # IPv6 loopback
        f"http://[::ffff:127.0.0.1]:{port}/image.png",  # IPv4-mapped IPv6
        f"http://[::ffff:7f00:1]:{port}/image.png",  # the same, written in hex
        f"http://localhost:{port}/image.png",  # a name that resolves to loopback
        world.upstream.url("/redirect", ) + f"?to=http://127.0.0.1:{port}/image.png",  # an allowed host redirecting
        "http://[fd00::1]/image.png",  # unique-local
        "http://192.168.1.1/image.png",
    ]
    for url in vectors:
        assert_problem(await world.proxy(url), 422, "address_refused")
    assert world.loopback.seen == []  # not one request reached the loopback server
    assert world.upstream.seen == ["/redirect"]


async def test_allow_private_lets_a_local_server_through(database_url: str, tmp_path: Path) -> None:
    runner, upstream = await start_upstream("127.0.0.1", tmp_path)
    try:
        async with running_api(database_url, tmp_path / "data", media={"allow_private": True}) as api:
            team = await make_team(api)
            found = await api.client.get(PROXY, headers=team.bob.headers,
                                         params={"url": upstream.url("/image.png"), "size": 40})
            assert found.status_code == 200 and decoded(found.content).size == (40, 20)
    finally:
        await runner.cleanup()


def bomb_png(width: int, height: int) -> bytes:
    """A few hundred bytes claiming `width`×`height` pixels (rows of zeros, compressed away)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = zlib.compress(b"\x00" * 1024)  # far fewer rows than claimed: only the header matters
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", rows) + chunk(b"IEND", b""))


async def test_a_decompression_bomb_is_refused_without_decoding_it(world: World) -> None:
    bomb = bomb_png(100_000, 100_000)  # 10 gigapixels in a few hundred bytes
    file = await upload(world, bomb, "bomb.png", "image/png")
    assert_problem(await world.proxy(f"agyn://file/{file['id']}", size=100), 413, "media_too_large")
    over_setting = await upload(world, bomb_png(5000, 5000), "big.png", "image/png")  # 25 MP > the 10 MP allowed
    assert_problem(await world.proxy(f"agyn://file/{over_setting['id']}", size=100), 413, "media_too_large")


async def test_the_web_page_may_call_it_across_origins(world: World) -> None:
    preflight = await world.api.client.options(PROXY, headers={
        "Origin": "http://localhost:5173", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, range"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "Range" in preflight.headers["access-control-allow-headers"]
    refused = await world.proxy("http://10.0.0.1/x.png", headers={"Origin": "http://localhost:5173"})
    assert refused.status_code == 422 and refused.headers["access-control-allow-origin"] == "*"
