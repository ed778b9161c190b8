"""The modules whose resources are registry collections. Each has `resources.py` (declarations),
`models.py`, `schemas.py`, `service.py` (with `SERVICES`, its collection services) and
`endpoints.py` (with `routers`). Listed in dependency order."""

from __future__ import annotations

import importlib
from types import ModuleType

from agyn.kit.resources import REGISTRY, Registry

COLLECTION_MODULES = ("llm", "secrets", "agents", "runners", "apps")


def submodules(name: str) -> list[ModuleType]:
    """`agyn.<module>.<name>` of every collection module."""
    return [importlib.import_module(f"agyn.{module}.{name}") for module in COLLECTION_MODULES]


def load_registry() -> Registry:
    """The registry with every resource declared: the foundation's own and every collection module's."""
    importlib.import_module("agyn.users.resources")
    importlib.import_module("agyn.organizations.resources")
    submodules("resources")
    return REGISTRY
