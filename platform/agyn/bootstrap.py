"""First start: a system organization and a cluster-admin user with an API token.

Runs at every start and does its work once (recorded in `platform_state`). The admin token is
handed back to be printed once and is written to `<data-dir>/admin-token` with mode 0600, and on
Kubernetes into the Secret `AGYN_ADMIN_TOKEN_SECRET` names (replicas' data dirs are their own).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from agyn.kit.crypto import write_secret_file
from agyn.kit.db import lock_name
from agyn.kit.platform import Platform
from agyn.kit.principal import IdentityType, Principal
from agyn.kit.state import PlatformState
from agyn.organizations.schemas import OrganizationCreate
from agyn.organizations.service import OrganizationsService
from agyn.settings import Settings
from agyn.users.schemas import ApiTokenCreate, UserCreate
from agyn.users.service import UsersService

BOOTSTRAP_KEY = "bootstrap"
SYSTEM_ORGANIZATION = "system"
ADMIN_SUBJECT = "agyn:bootstrap-admin"


@dataclass(frozen=True)
class BootstrapResult:
    admin_token: str
    token_path: Path


def announce_admin_token(token: str, path: Path, stream: TextIO) -> None:
    """Show the first admin token once, and only on a terminal: output redirected to a file (a log, a
    CI transcript) is told where the 0600 token file is instead."""
    if stream.isatty():
        text = (f"First start: created the cluster admin.\n  API token: {token}\n"
                f"  (also written to {path}, mode 0600; it is not shown again)")
    else:
        text = (f"First start: created the cluster admin. Its API token is in {path} (mode 0600); it is not "
                "printed because this output is not a terminal.")
    print(text, file=stream, flush=True)


async def bootstrap(platform: Platform) -> BootstrapResult | None:
    """Create the system org and the first admin unless done before; the token when created now."""
    users, organizations = platform.get(UsersService), platform.get(OrganizationsService)
    async with platform.database.transaction() as session:
        # replicas starting together on one database: the second waits here, then finds it done
        await lock_name(session, BOOTSTRAP_KEY)
        if await session.get(PlatformState, BOOTSTRAP_KEY) is not None:
            return None
        admin, _ = await users.create(
            session, None, UserCreate(oidc_subject=ADMIN_SUBJECT, username="admin", name="Cluster admin",
                                      cluster_role="admin"))
        principal = Principal(admin.id, IdentityType.user)
        await organizations.create(session, principal, OrganizationCreate(name=SYSTEM_ORGANIZATION),
                                            is_system=True)
        _, plain = await users.create_token(session, principal, admin.id,
                                                     ApiTokenCreate(name="bootstrap admin token"))
        session.add(PlatformState(key=BOOTSTRAP_KEY, value=str(admin.id)))
        await session.flush()
        # before the commit: a crash in between leaves no bootstrap behind the file, so the next start redoes both
        settings = platform.get(Settings)
        path = write_secret_file(settings.admin_token_path, plain)
        if settings.admin_token_secret:
            await asyncio.to_thread(fill_token_secret, settings.admin_token_secret, plain)
    return BootstrapResult(plain, path)


def fill_token_secret(reference: str, token: str) -> None:
    """Write the token into the Kubernetes Secret `<namespace>/<name>` (key `token`) with the Pod's service
    account, or the kubeconfig outside a cluster. The Secret exists (the bootstrap stack makes it empty)."""
    from kubernetes import client, config

    namespace, _, name = reference.partition("/")
    configuration = client.Configuration()
    try:
        config.load_incluster_config(client_configuration=configuration)
    except config.ConfigException:
        config.load_kube_config(client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        client.CoreV1Api(api).patch_namespaced_secret(name, namespace, {"stringData": {"token": token}})
