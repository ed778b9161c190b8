"""First start: a system organization and a cluster-admin user with an API token.

Runs at every start and does its work once (recorded in `platform_state`). The admin token is
handed back to be printed once and is written to `<data-dir>/admin-token` with mode 0600.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.container import Platform
from agyn.kit.principal import IdentityType, Principal
from agyn.kit.state import PlatformState
from agyn.organizations.schemas import OrganizationCreate
from agyn.users.schemas import ApiTokenCreate, UserCreate

BOOTSTRAP_KEY = "bootstrap"
SYSTEM_ORGANIZATION = "system"
ADMIN_SUBJECT = "agyn:bootstrap-admin"


@dataclass(frozen=True)
class BootstrapResult:
    admin_token: str
    token_path: Path


async def bootstrap(platform: Platform) -> BootstrapResult | None:
    """Create the system org and the first admin unless done before; the token when created now."""
    async with platform.database.transaction() as session:
        if await session.get(PlatformState, BOOTSTRAP_KEY) is not None:
            return None
        admin, _ = await platform.users.create(
            session, None, UserCreate(oidc_subject=ADMIN_SUBJECT, username="admin", name="Cluster admin",
                                      cluster_role="admin"))
        principal = Principal(admin.id, IdentityType.user)
        await platform.organizations.create(session, principal, OrganizationCreate(name=SYSTEM_ORGANIZATION),
                                            is_system=True)
        _, plain = await platform.users.create_token(session, principal, admin.id,
                                                     ApiTokenCreate(name="bootstrap admin token"))
        session.add(PlatformState(key=BOOTSTRAP_KEY, value=str(admin.id)))
        await session.flush()
        path = write_secret_file(platform.settings.admin_token_path, plain)
    return BootstrapResult(plain, path)


def write_secret_file(path: Path, content: str) -> Path:
    """Write `content` readable by the owner only (created 0600, never briefly wider)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(content + "\n")
    os.chmod(path, 0o600)
    return path


async def is_bootstrapped(session: AsyncSession) -> bool:
    return await session.get(PlatformState, BOOTSTRAP_KEY) is not None
