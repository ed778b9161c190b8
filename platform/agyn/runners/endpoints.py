"""Workloads over HTTP: list and get (the organization's members), logs (streamed), touch (the
workload itself), and a runner's connection status."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Query
from fastapi.responses import StreamingResponse

from agyn.api.dependencies import PlatformDep, PrincipalDep, SessionDep, service
from agyn.kit.errors import FailedPrecondition
from agyn.kit.http import TransactionalRoute
from agyn.kit.pagination import Page, PageRequest, page_request
from agyn.kit.routing import ModuleRouter
from agyn.runners import repository
from agyn.runners.models import Workload
from agyn.runners.schemas import RunnerStatus, WorkloadRead, WorkloadStatus, WorkloadTouch
from agyn.runners.service import RunnersService
from agyn.runners.workloads import WorkloadsService
from agyn.settings import Settings

router = ModuleRouter(prefix="/api/v1", route_class=TransactionalRoute)
PageDep = Annotated[PageRequest, Depends(page_request)]
Workloads = Annotated[WorkloadsService, Depends(service(WorkloadsService))]
Runners = Annotated[RunnersService, Depends(service(RunnersService))]


def workload_read(workload: Workload) -> WorkloadRead:
    return WorkloadRead.model_validate(workload)


@router.get("/workloads", response_model=Page[WorkloadRead], tags=["workloads"],
            summary="List workloads of the organizations you belong to, oldest first")
async def list_workloads(principal: PrincipalDep, workloads: Workloads, session: SessionDep, page: PageDep,
                         organization_id: Annotated[uuid.UUID | None, Query()] = None,
                         thread_id: Annotated[uuid.UUID | None, Query()] = None,
                         agent_id: Annotated[uuid.UUID | None, Query()] = None,
                         status: Annotated[WorkloadStatus | None, Query()] = None) -> Page[WorkloadRead]:
    items, next_token = await workloads.list(session, principal, page, {
        "organization_id": organization_id, "thread_id": thread_id, "agent_id": agent_id, "status": status})
    return Page(items=[workload_read(w) for w in items], next_page_token=next_token)


@router.get("/workloads/{workload_id}", response_model=WorkloadRead, tags=["workloads"], summary="Get a workload")
async def get_workload(workload_id: uuid.UUID, principal: PrincipalDep, workloads: Workloads,
                       session: SessionDep) -> WorkloadRead:
    return workload_read(await workloads.get(session, principal, workload_id))


@router.get("/workloads/{workload_id}/logs", tags=["workloads"], response_class=StreamingResponse,
            status_code=200, responses={200: {"content": {"text/plain": {}}}},
            summary="A container's output (container=runtime, mcp-<name>, init-<n>); follow=true streams until "
                    "the workload ends")
async def workload_logs(workload_id: uuid.UUID, principal: PrincipalDep, workloads: Workloads, session: SessionDep,
                        container: Annotated[str, Query(max_length=100)] = "runtime",
                        follow: Annotated[bool, Query()] = False) -> StreamingResponse:
    workload = await workloads.get(session, principal, workload_id)
    runtime = workloads.runtimes.get(workload.runner_id)
    if runtime is None:
        raise FailedPrecondition(f"the logs of workload {workload_id} are on its runner, which this replica does "
                                 "not reach; ask the replica that runs the orchestrator")
    return StreamingResponse(runtime.logs(workload.id, container, follow), media_type="text/plain")


@router.post("/workloads/{workload_id}/touch", response_model=WorkloadRead, tags=["workloads"],
             summary="The workload reports it is alive and whether it is processing (workload token only)")
async def touch_workload(workload_id: uuid.UUID, data: WorkloadTouch, principal: PrincipalDep,
                         workloads: Workloads, session: SessionDep) -> WorkloadRead:
    return workload_read(await workloads.touch(session, principal, workload_id, data.agent_state))


@router.get("/runners/{runner_id}/status", response_model=RunnerStatus, tags=["runners"],
            summary="Whether a runner is connected: enrolled (never), online, or offline")
async def runner_status(runner_id: uuid.UUID, principal: PrincipalDep, runners: Runners, session: SessionDep,
                        platform: PlatformDep) -> RunnerStatus:
    runner = await runners.get(session, principal, runner_id)
    presence = (await repository.presence_of(session, [runner.id])).get(runner.id)
    window = timedelta(seconds=platform.get(Settings).orchestrator.runner_offline_seconds)
    now = platform.clock.now()
    status: Literal["enrolled", "online", "offline"] = \
        "enrolled" if presence is None else "online" if presence.last_seen_at > now - window else "offline"
    count = await repository.count_active(session, runner.id)
    return RunnerStatus(runner_id=runner.id, status=status, first_seen_at=presence.first_seen_at if presence else None,
                        last_seen_at=presence.last_seen_at if presence else None, workloads=count)

