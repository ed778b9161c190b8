from __future__ import annotations

from fastapi import Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agyn.api.dependencies import PlatformDep
from agyn.kit.errors import problem, problem_response
from agyn.kit.routing import ModuleRouter

router = ModuleRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process serves requests")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the database (and broker, when configured) answer", response_model=None)
async def readyz(platform: PlatformDep) -> dict[str, object] | Response:
    checks: dict[str, str] = {}
    try:
        await platform.database.ping()
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unavailable: {type(error).__name__}"
    if platform.redis is not None:
        try:
            await platform.redis.ping()
            checks["broker"] = "ok"
        except Exception as error:
            checks["broker"] = f"unavailable: {type(error).__name__}"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ok", "checks": checks}
    body = problem(503, "unavailable", "Not ready", "; ".join(f"{k}: {v}" for k, v in checks.items()))
    body["checks"] = checks
    return problem_response(body)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)
