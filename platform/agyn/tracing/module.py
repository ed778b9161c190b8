from agyn.kit.platform import Module, Platform
from agyn.settings import Settings
from agyn.tracing import ingest
from agyn.tracing.endpoints import router
from agyn.tracing.models import Span
from agyn.tracing.service import TracingService
from agyn.tracing.tasks import RetentionLoop


def services(platform: Platform) -> list[object]:
    return [TracingService(platform), RetentionLoop(platform, platform.get(Settings).tracing)]


async def start(platform: Platform) -> None:
    platform.get(RetentionLoop).start()


async def stop(platform: Platform) -> None:
    await platform.get(RetentionLoop).stop()


MODULE = Module(name="tracing", tables=(Span,), services=services, routers=(router, ingest.router),
                hot_routes=ingest.hot_routes, on_start=start, on_stop=stop)
