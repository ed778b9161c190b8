from agyn.kit.platform import Module, Platform
from agyn.llm.service import MODEL_UPDATED, PROVIDER_UPDATED
from agyn.llm_proxy.endpoints import hot_routes, router
from agyn.llm_proxy.service import LLMProxyService


def services(platform: Platform) -> list[object]:
    return [LLMProxyService(platform)]


async def start(platform: Platform) -> None:
    await platform.get(LLMProxyService).start()


async def stop(platform: Platform) -> None:
    await platform.get(LLMProxyService).stop()


MODULE = Module(
    name="llm_proxy",
    services=services,
    routers=(router,),
    hot_routes=hot_routes,
    subscriptions=lambda platform: [(MODEL_UPDATED, platform.get(LLMProxyService).on_models_changed),
                                    (PROVIDER_UPDATED, platform.get(LLMProxyService).on_models_changed),
                                    ("agent.updated", platform.get(LLMProxyService).on_agent_changed)],
    on_start=start,
    on_stop=stop,
)
