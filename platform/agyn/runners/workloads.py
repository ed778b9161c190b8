"""Workloads as the API shows them: who may read them (the organization's members), the runtime's
touch, and `workload.updated` to the workload's and its organization's rooms after every change."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.authorization.service import AuthorizationService
from agyn.kit.errors import NotFound, PermissionDenied
from agyn.kit.pagination import PageRequest
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.runners import repository
from agyn.runners.models import Workload
from agyn.runners.runtime import Runtime
from agyn.settings import Settings
from agyn.users import workload_tokens

WORKLOAD_UPDATED = "workload.updated"
SOURCE = "runners"


def workload_rooms(workload: Workload) -> tuple[str, ...]:
    return (f"workload:{workload.id}", f"organization:{workload.organization_id}")


def publish_workload(platform: Platform, session: AsyncSession, workload: Workload) -> None:
    """`workload.updated` once this transaction commits: ids and the new state, nothing else."""
    platform.events.publish_after_commit(
        session, WORKLOAD_UPDATED, SOURCE, rooms=workload_rooms(workload), workload_id=str(workload.id),
        thread_id=str(workload.thread_id), agent_id=str(workload.agent_id), status=workload.status,
        agent_state=workload.agent_state)


class Runtimes:
    """The runners this process can reach, by runner id: the embedded local runner, remote runners'
    channels. The orchestrator starts and stops through them; the logs route reads through them."""

    def __init__(self) -> None:
        self._by_runner: dict[uuid.UUID, Runtime] = {}

    def register(self, runner_id: uuid.UUID, runtime: Runtime) -> None:
        self._by_runner[runner_id] = runtime

    def unregister(self, runner_id: uuid.UUID) -> None:
        self._by_runner.pop(runner_id, None)

    def get(self, runner_id: uuid.UUID) -> Runtime | None:
        return self._by_runner.get(runner_id)

    def __contains__(self, runner_id: object) -> bool:
        return runner_id in self._by_runner


class WorkloadsService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.authz = platform.get(AuthorizationService)
        self.runtimes = Runtimes()
        self.token_ttl = timedelta(seconds=platform.get(Settings).orchestrator.token_ttl_seconds)

    async def _organizations(self, principal: Principal) -> list[uuid.UUID] | None:
        if await self.authz.is_cluster_admin(principal):
            return None
        return [uuid.UUID(i) for i in await self.authz.list_object_ids(principal, "can_view", "organization")]

    async def list(self, session: AsyncSession, principal: Principal, page: PageRequest,
                   filters: dict[str, Any]) -> tuple[list[Workload], str | None]:
        organizations = await self._organizations(principal)
        return await repository.page_of(session, repository.listing(organizations, filters), page)

    async def get(self, session: AsyncSession, principal: Principal, workload_id: uuid.UUID) -> Workload:
        workload = await session.get(Workload, workload_id)
        if workload is None or not (
                await self.authz.check(principal, "can_view", objects.organization(workload.organization_id))
                or (principal.scope is not None and principal.scope.workload_id == workload_id)):
            raise NotFound(f"workload {workload_id} not found")
        return workload

    async def touch(self, session: AsyncSession, principal: Principal, workload_id: uuid.UUID,
                    agent_state: str) -> Workload:
        """The workload says it is alive and what it does: its activity clock restarts (idle stops are
        measured from here) and its token lives on."""
        if principal.scope is None or principal.scope.workload_id != workload_id:
            raise PermissionDenied("only the workload itself touches it (with its workload token)")
        workload = await session.get(Workload, workload_id, with_for_update=True)
        if workload is None:
            raise NotFound(f"workload {workload_id} not found")
        now = self.platform.clock.now()
        changed = workload.agent_state != agent_state
        workload.agent_state, workload.last_activity_at, workload.updated_at = agent_state, now, now
        if workload.status == "starting":
            workload.status, workload.started_at, changed = "running", workload.started_at or now, True
        await workload_tokens.renew(session, self.platform, workload_id, self.token_ttl)
        await session.flush()
        if changed:
            publish_workload(self.platform, session, workload)
        return workload
