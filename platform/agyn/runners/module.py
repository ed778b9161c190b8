from agyn.kit.platform import Module
from agyn.runners.models import Runner
from agyn.runners.service import RunnersService

MODULE = Module(
    name="runners",
    tables=(Runner,),
    collections=(RunnersService,),
)
