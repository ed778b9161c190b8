from agyn.kit.collections import collection_router
from agyn.runners.resources import RUNNER
from agyn.runners.schemas import RunnerSchemas

routers = [collection_router(RUNNER, RunnerSchemas)]
