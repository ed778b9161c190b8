"""Secrets: secret providers (Vault KV v2) and secrets (local values encrypted at rest, or provider
references); values are write-only and resolved only internally.
"""
