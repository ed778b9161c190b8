"""What the kit needs from authorization, as a port: modules plug the real service in.

The authorization module implements `Authorizer`; the kit's generic collections only ask through
it, so the kit never imports the module above it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from agyn.kit.principal import Principal


def object_name(object_type: str, object_id: uuid.UUID | str) -> str:
    """`type:id`, the name of an object (or of a plain user) in the authorization model."""
    return f"{object_type}:{object_id}"


class Authorizer(Protocol):
    """The questions the kit asks; the authorization module answers them (and owns the writes)."""

    async def check(self, principal: Principal, relation: str, obj: str) -> bool: ...

    async def check_many(self, principal: Principal, relation: str, objects: Sequence[str]) -> list[bool]: ...

    async def require(self, principal: Principal, relation: str, obj: str, action: str) -> None: ...

    async def is_cluster_admin(self, principal: Principal) -> bool: ...

    async def list_object_ids(self, principal: Principal, relation: str, object_type: str) -> list[str]: ...

    async def list_object_uuids(self, principal: Principal, relation: str,
                                object_type: str) -> Sequence[uuid.UUID]: ...
