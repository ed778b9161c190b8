"""Every module's tables, imported in one place so that migrations see the whole schema."""

from agyn.authorization.models import AuthorizationTuple
from agyn.identity.models import Identity, OrgNickname
from agyn.kit.audit import AuditEvent
from agyn.kit.db import Base
from agyn.kit.http import IdempotencyRecord
from agyn.kit.state import PlatformState
from agyn.modules import submodules
from agyn.organizations.models import Membership, Organization
from agyn.users.models import ApiToken, User

submodules("models")  # the registry collections' tables
metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthorizationTuple",
    "IdempotencyRecord",
    "Identity",
    "Membership",
    "OrgNickname",
    "Organization",
    "PlatformState",
    "User",
    "metadata",
]
