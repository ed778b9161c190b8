"""Agyn platform server: services, API, orchestrator, runners, agent runtime, CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("agyn")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
