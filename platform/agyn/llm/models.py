from agyn.kit.collections import build_model
from agyn.llm.resources import LLM_PROVIDER, MODEL

LLMProvider = build_model(LLM_PROVIDER)
Model = build_model(MODEL)
