"""Metering: usage records (tokens, requests, compute, storage) deduplicated by idempotency key, and
aggregated queries over them.
"""
