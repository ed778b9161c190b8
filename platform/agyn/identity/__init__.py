"""Identity: the platform-wide registry of identity ids and their types, and per-org nicknames."""
