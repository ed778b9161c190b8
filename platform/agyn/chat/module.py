from agyn.chat.endpoints import router
from agyn.chat.models import Conversation
from agyn.chat.service import ChatService
from agyn.kit.platform import Module, Platform


def services(platform: Platform) -> list[object]:
    return [ChatService(platform)]


MODULE = Module(name="chat", tables=(Conversation,), services=services, routers=(router,))
