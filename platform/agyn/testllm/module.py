from starlette.types import ASGIApp

from agyn.kit.platform import Module, Platform
from agyn.settings import Settings
from agyn.testllm.app import MOUNT_PATH, create_testllm_app, store_for_settings
from agyn.testllm.suites import SuiteStore


def services(platform: Platform) -> list[object]:
    return [store_for_settings(platform.get(Settings))]


def mounts(platform: Platform) -> list[tuple[str, ASGIApp]]:
    return [(MOUNT_PATH, create_testllm_app(platform.get(SuiteStore)))]


MODULE = Module(name="testllm", services=services, mounts=mounts)
