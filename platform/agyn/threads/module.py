from agyn.kit.platform import Module, Platform
from agyn.threads.endpoints import router
from agyn.threads.models import Message, Participant, Recipient, Thread
from agyn.threads.service import ThreadsService


def services(platform: Platform) -> list[object]:
    return [ThreadsService(platform)]


MODULE = Module(name="threads", tables=(Thread, Participant, Message, Recipient), services=services,
                routers=(router,))
