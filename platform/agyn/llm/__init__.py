"""LLM: LLM providers (endpoint, protocol, auth, encrypted credentials) and models that map a platform
model name to a provider and a remote model name.
"""
