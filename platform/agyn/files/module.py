from agyn.files.endpoints import router, streaming
from agyn.files.models import Attachment, File
from agyn.files.service import FilesService
from agyn.kit.platform import Module, Platform


def services(platform: Platform) -> list[object]:
    return [FilesService(platform)]


async def on_start(platform: Platform) -> None:
    await platform.get(FilesService).start()


async def on_stop(platform: Platform) -> None:
    await platform.get(FilesService).stop()


MODULE = Module(name="files", tables=(File, Attachment), services=services, routers=(router, streaming),
                on_start=on_start, on_stop=on_stop, streamed_uploads=("/api/v1/files",))
