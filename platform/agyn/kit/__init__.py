"""Shared machinery every module uses: database, base models, repositories, errors, HTTP conventions."""
