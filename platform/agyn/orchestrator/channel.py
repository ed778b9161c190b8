"""`agyn orchestrator`'s one HTTP listener: the remote runners' channel, open only while this process leads.

The channel lives in the memory of the process that orchestrates (`agyn.runners.remote`). Listening only
while the lease is held means a standby has no listener: a Kubernetes readiness probe on the port marks
only the leader ready (its Service reaches the leader alone), and runners that lose the leader retry the
same address until the next leader listens there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from agyn.kit.errors import install_error_handlers
from agyn.kit.platform import Platform
from agyn.orchestrator.loop import OrchestratorLoop
from agyn.runners import remote

log = logging.getLogger("agyn.orchestrator")

RETRY_SECONDS = 1.0  # the port may still be held by a leader that has just died


def channel_app(platform: Platform) -> FastAPI:
    app = FastAPI(title="Agyn orchestrator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.platform = platform
    install_error_handlers(app)
    app.include_router(remote.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "leading"}

    return app


class _ChannelServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the command's own handlers stop the process (and this server with it)


async def serve_while_leading(platform: Platform, loop: OrchestratorLoop, host: str, port: int) -> None:
    """Listen on host:port whenever this process leads; close the listener when it stops leading."""
    app = channel_app(platform)
    while True:
        await loop.leading.wait()
        server = _ChannelServer(uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False,
                                               lifespan="off"))
        serving = asyncio.create_task(server.serve())
        announced = False
        try:
            while loop.leading.is_set() and not serving.done():
                if server.started and not announced:
                    log.info("the runner channel listens", extra={"port": port})
                    announced = True
                await asyncio.sleep(0.2)
        finally:
            server.should_exit = True
            with contextlib.suppress(SystemExit):  # uvicorn exits so when it cannot bind
                await serving
        if loop.leading.is_set():
            await asyncio.sleep(RETRY_SECONDS)
