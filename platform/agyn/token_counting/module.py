from agyn.kit.platform import Module
from agyn.token_counting.endpoints import router

MODULE = Module(name="token_counting", routers=(router,))
