from agyn.chat.models import Conversation
from agyn.kit.platform import Module

MODULE = Module(name="chat", tables=(Conversation,))
