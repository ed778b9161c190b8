from agyn.kit.platform import Module, Platform
from agyn.metering.endpoints import router
from agyn.metering.models import UsageRow
from agyn.metering.service import MeteringService


def services(platform: Platform) -> list[object]:
    return [MeteringService(platform)]


async def start_writer(platform: Platform) -> None:
    platform.get(MeteringService).writer.start()


async def stop_writer(platform: Platform) -> None:
    """Flush what producers handed over before the process ends."""
    await platform.get(MeteringService).writer.stop()


MODULE = Module(name="metering", tables=(UsageRow,), services=services, routers=(router,),
                on_start=start_writer, on_stop=stop_writer)
