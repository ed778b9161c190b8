from agyn.kit.platform import Module, Platform
from agyn.media_proxy.endpoints import router
from agyn.media_proxy.service import MediaProxy


def services(platform: Platform) -> list[object]:
    return [MediaProxy(platform)]


async def on_start(platform: Platform) -> None:
    await platform.get(MediaProxy).start()


async def on_stop(platform: Platform) -> None:
    await platform.get(MediaProxy).stop()


MODULE = Module(name="media_proxy", services=services, routers=(router,), on_start=on_start, on_stop=on_stop)
