from agyn.kit.collections import collection_router
from agyn.llm.resources import LLM_PROVIDER, MODEL
from agyn.llm.schemas import LLMProviderSchemas, ModelSchemas

routers = [collection_router(LLM_PROVIDER, LLMProviderSchemas), collection_router(MODEL, ModelSchemas)]
