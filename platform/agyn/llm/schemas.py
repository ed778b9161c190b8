from agyn.kit.collections import build_schemas
from agyn.llm.resources import LLM_PROVIDER, MODEL

LLMProviderSchemas = build_schemas(LLM_PROVIDER)
ModelSchemas = build_schemas(MODEL)
