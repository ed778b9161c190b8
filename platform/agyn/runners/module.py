from agyn.kit.platform import Module, Platform
from agyn.runners import remote
from agyn.runners.endpoints import router
from agyn.runners.models import Runner, RunnerPresence, VolumeInstance, Workload
from agyn.runners.service import RunnersService
from agyn.runners.workloads import WorkloadsService


def services(platform: Platform) -> list[object]:
    workloads = WorkloadsService(platform)
    platform.provide(workloads)
    return [remote.RemoteRunners(platform)]


MODULE = Module(
    name="runners",
    tables=(Runner, Workload, VolumeInstance, RunnerPresence),
    collections=(RunnersService,),
    services=services,
    routers=(router, remote.router),
)
