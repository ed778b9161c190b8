"""`/` serves the page's built `index.html`, `/web/assets/` its scripts and styles, and `/web/config.json`
what the page needs to know before signing in (the OIDC issuer and client, when one is configured)."""

from __future__ import annotations

from html import escape

from starlette.responses import FileResponse, HTMLResponse

from agyn.api.dependencies import PlatformDep
from agyn.kit.routing import ModuleRouter
from agyn.settings import Settings
from agyn.web.bundle import BUILD_COMMAND, STATIC

ASSETS_URL = "/web/assets"

router = ModuleRouter(include_in_schema=False)

NOT_BUILT = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agyn — page not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The web page has not been built</h1>
<p>This installation serves the API (see <a href="/docs">/docs</a>), but the chat page's bundle is missing.
Build it once from the repository root (Node.js and npm needed), then reload:</p>
<pre>{escape(BUILD_COMMAND)}</pre>
<p>(or <code>.venv/bin/agyn web build</code>; <code>bash scripts/quickstart.sh</code> does it for you)</p>
</body></html>"""


@router.get("/", response_model=None)
async def index() -> FileResponse | HTMLResponse:
    page = STATIC / "index.html"
    if not page.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    # the page names its hashed assets: always revalidate it, cache them for good
    return FileResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/web/config.json")
async def web_config(platform: PlatformDep) -> dict[str, object]:
    oidc = platform.get(Settings).oidc
    return {"oidc": {"issuer": oidc.issuer, "client_id": oidc.client_id, "scope": oidc.scope}
            if oidc.enabled and oidc.client_id else None}
