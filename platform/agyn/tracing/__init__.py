"""Tracing: OTLP/HTTP span ingestion with upsert semantics, span queries and the run timeline of a
conversation.
"""
