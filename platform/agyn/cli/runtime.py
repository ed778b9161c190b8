"""`agyn agent-runtime`: the process a workload runs (its environment is the runner's contract)."""

from __future__ import annotations

import asyncio
import logging
import os

import httpx

from agyn.cli.common import fail


def agent_runtime() -> None:
    """Serve this workload's thread as its agent (reads AGYN_PLATFORM_URL, AGYN_WORKLOAD_TOKEN, AGYN_THREAD_ID, …)."""
    from agyn.agent_runtime.daemon import RuntimeConfigError, RuntimeEnv, serve
    from agyn.agent_runtime.tools import ToolConfigurationError
    from agyn.kit.logging import configure_logging

    configure_logging(os.environ.get("AGYN_LOG_LEVEL", "info"), os.environ.get("AGYN_LOG_FORMAT", "text"))
    for noisy in ("httpx", "httpx2", "mcp"):  # a line per request is the platform's log's job
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        env = RuntimeEnv.from_environ(os.environ)
        asyncio.run(serve(env, os.environ))
    except (RuntimeConfigError, ToolConfigurationError) as error:
        fail(f"cannot start the agent runtime: {error}", "run it in a workload, whose runner sets AGYN_*")
    except httpx.HTTPStatusError as error:
        fail(f"the platform refused the agent runtime: {error.response.status_code} {error.request.url.path}",
             "check AGYN_WORKLOAD_TOKEN: it is renewed while the workload runs and revoked when it stops")
