"""The base of collection services whose objects also exist as relationship tuples."""

from __future__ import annotations

from agyn.authorization.service import AuthorizationService
from agyn.kit.collections import CollectionService
from agyn.kit.platform import Platform


class TupleCollectionService(CollectionService):
    """Writes tuples beside its rows, in the same transaction (so it needs the whole authorization
    service, not just the questions the kit asks)."""

    authz: AuthorizationService

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.authz = platform.get(AuthorizationService)
