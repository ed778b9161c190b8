from agyn.gateway.endpoints import router
from agyn.kit.platform import Module

MODULE = Module(name="gateway", routers=(router,))
