"""Every table, so that migrations see the whole schema: the kit's own and each module's."""

from agyn.kit.audit import AuditEvent
from agyn.kit.db import Base
from agyn.kit.http import IdempotencyRecord
from agyn.kit.state import PlatformState
from agyn.modules import load_modules

KIT_TABLES = (AuditEvent, IdempotencyRecord, PlatformState)
MODULE_TABLES = tuple(table for module in load_modules() for table in module.tables)
metadata = Base.metadata
