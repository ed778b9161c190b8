"""LLM proxy: OpenAI Responses and Anthropic Messages APIs for agents — authenticate, resolve the
model, forward (streaming untouched) and meter tokens.
"""
