"""Test LLM: a scripted LLM server speaking both provider protocols, used by examples and end-to-end
tests so that no network LLM is ever needed.
"""
