"""`GET /media/proxy?url=&size=`: for authenticated callers, with CORS for the web page (its requests carry
a bearer token, never cookies). Errors carry the CORS headers too, so the page can read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from agyn.api.dependencies import authenticate_briefly
from agyn.kit.errors import InvalidArgument, ProblemError, problem_response
from agyn.kit.platform import platform_of
from agyn.kit.routing import ModuleRouter
from agyn.media_proxy.service import FILE_SCHEME, MediaProxy
from agyn.settings import Settings

router = ModuleRouter(prefix="/media", tags=["media"])
EXPOSED = "Content-Type, Content-Range, Accept-Ranges, Content-Disposition, Content-Length"


def cors_headers(request: Request) -> dict[str, str]:
    origins = platform_of(request).get(Settings).media.cors_origins
    origin = request.headers.get("origin")
    if "*" in origins:
        allowed = "*"
    elif origin is not None and origin in origins:
        allowed = origin
    else:
        return {}
    return {"Access-Control-Allow-Origin": allowed, "Access-Control-Expose-Headers": EXPOSED, "Vary": "Origin"}


@router.get("/proxy", summary="Proxy media: agyn://file/<id> (your files, any type) or an external http(s) image, "
                              "audio or video (public addresses only); `size` downsamples images",
            responses={206: {"description": "Partial content (Range)"}, 413: {}, 415: {},
                       422: {"description": "The URL reaches an address the proxy may not (SSRF)"}, 502: {},
                       504: {}})
async def proxy_media(
    request: Request,
    url: Annotated[str | None, Query(max_length=4096, description="agyn://file/<id> or http(s)")] = None,
    size: Annotated[int | None, Query(description="Largest width or height, in pixels")] = None,
) -> Response:
    media = platform_of(request).get(MediaProxy)
    try:
        principal = await authenticate_briefly(request)
        if not url:
            raise InvalidArgument.field("url", "is required: agyn://file/<id> or an http(s) URL")
        media.check_size(size)
        range_header = request.headers.get("range")
        if url.startswith(FILE_SCHEME):
            response = await media.platform_file(principal, url, size, range_header)
        elif url.lower().startswith(("http://", "https://")):
            response = await media.external(url, size, range_header)
        else:
            raise InvalidArgument.field("url", "must be agyn://file/<id> or an http(s) URL")
    except ProblemError as error:
        return problem_response(error.to_problem(request.url.path), {**(error.headers or {}), **cors_headers(request)})
    response.headers.update(cors_headers(request))
    return response


@router.options("/proxy", include_in_schema=False)
async def proxy_preflight(request: Request) -> Response:
    headers = cors_headers(request)
    if headers:
        headers |= {"Access-Control-Allow-Methods": "GET, OPTIONS",
                    "Access-Control-Allow-Headers": "Authorization, Range", "Access-Control-Max-Age": "86400"}
    return Response(status_code=204, headers=headers)
