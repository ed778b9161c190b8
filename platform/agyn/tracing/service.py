"""Tracing: producers export OTLP spans (upserted on their ids), members of an organization read them.

Rules: who the spans are about is the server's to say. A workload token exports as its agent, in its
organization, thread and workload; any other caller names the organization (`x-agyn-organization-id`),
which it must be a member of (cluster admins may name any). Identity attributes the producer sent are
replaced. A span claiming a message (`agyn.thread.message.id`, `agyn.thread.message.ids`, on the span,
its events or its resource) must name one of a thread the caller may read in that organization (a
workload: its own thread), or the whole export is refused. A span already stored by another caller is
never overwritten: it is counted as rejected.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from google.rpc import code_pb2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agyn.authorization import objects
from agyn.kit.errors import InvalidArgument, NotFound
from agyn.kit.platform import Platform
from agyn.kit.principal import Principal
from agyn.threads.models import Message, Thread
from agyn.tracing import otlp, repository
from agyn.tracing.models import Span
from agyn.tracing.otlp import OtlpError

SOURCE = "tracing"
MESSAGE_ID = "agyn.thread.message.id"
MESSAGE_IDS = "agyn.thread.message.ids"
IDENTITY_ATTRIBUTES = ("agyn.organization.id", "agyn.identity.id", "agyn.agent.id", "agyn.thread.id",
                       "agyn.workload.id")
"""Set by the server from the caller; whatever a producer sends under these names is dropped."""


def trace_room(trace_id: str) -> str:
    return f"trace:{trace_id}"


@dataclass(frozen=True)
class Exporter:
    """Who an export is from, as the server establishes it."""

    identity_id: uuid.UUID
    organization_id: uuid.UUID
    agent_id: uuid.UUID | None = None
    thread_id: uuid.UUID | None = None
    workload_id: uuid.UUID | None = None

    @property
    def attributes(self) -> dict[str, str]:
        values = {"agyn.organization.id": self.organization_id, "agyn.identity.id": self.identity_id,
                  "agyn.agent.id": self.agent_id, "agyn.thread.id": self.thread_id,
                  "agyn.workload.id": self.workload_id}
        return {key: str(value) for key, value in values.items() if value is not None}


@dataclass
class Accepted:
    """What an export stored, and what it could not."""

    rejected: int = 0
    reasons: list[str] = field(default_factory=list)
    created: list[tuple[str, str]] = field(default_factory=list)
    updated: list[tuple[str, str]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(dict.fromkeys(self.reasons))


class TracingService:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # --- ingestion ------------------------------------------------------------------------------

    async def exporter(self, principal: Principal, organization_header: str | None) -> Exporter:
        if principal.scope is not None:
            scope = principal.scope
            return Exporter(principal.identity_id, scope.organization_id, scope.agent_id, scope.thread_id,
                            scope.workload_id)
        if not organization_header:
            raise otlp.bad_request("name the organization the spans belong to in the x-agyn-organization-id "
                                   "header")
        try:
            organization_id = uuid.UUID(organization_header.strip())
        except ValueError:
            raise otlp.bad_request("x-agyn-organization-id must be an organization's id") from None
        if not await self.platform.authz.check(principal, "can_view", objects.organization(organization_id)):
            raise OtlpError(403, code_pb2.PERMISSION_DENIED,
                            f"you are not a member of organization {organization_id}: export its spans with a "
                            "token of one of its members")
        return Exporter(principal.identity_id, organization_id)

    async def export(self, session: AsyncSession, principal: Principal, exporter: Exporter,
                     spans: otlp.Flat, now: int) -> Accepted:
        """Store an export's spans (one transaction: all of the valid ones, or none on an error); `now` in
        nanoseconds since the epoch."""
        accepted = Accepted()
        rows: list[dict[str, Any]] = []
        claims: dict[int, set[str]] = {}
        resources: dict[int, dict[str, Any]] = {}
        for span, resource, scope in spans:
            try:
                trace_id = otlp.hex_id(span.trace_id, 16)
                span_id = otlp.hex_id(span.span_id, 8)
                parent_span_id = otlp.hex_id(span.parent_span_id, 8)
            except ValueError as error:
                accepted.rejected += 1
                accepted.reasons.append(f"a span's trace_id, span_id or parent_span_id is invalid: {error}")
                continue
            if trace_id is None or span_id is None:
                accepted.rejected += 1
                accepted.reasons.append("a span has no trace_id or span_id")
                continue
            key = id(resource)
            if key not in resources:
                resources[key] = self._resource(resource, exporter)
            row = self._row(span, trace_id, span_id, parent_span_id, resources[key], scope, exporter, now)
            claimed = set(_claimed(row["attributes"], row["events"], resource["attributes"]))
            if claimed:
                claims[len(rows)] = claimed
            rows.append(row)
        threads = await self._verify_messages(session, principal, exporter, set().union(*claims.values()))
        for index, row in enumerate(rows):
            message = row["attributes"].get(MESSAGE_ID)
            if index in claims and isinstance(message, str):
                row["message_id"] = uuid.UUID(message)
                if row["thread_id"] is None:
                    row["thread_id"] = threads[row["message_id"]]
        stored = await repository.upsert_spans(session, rows)
        if stored.refused:
            accepted.rejected += len(stored.refused)
            accepted.reasons.append("a span with these ids was exported by another caller; it is not overwritten")
        accepted.created, accepted.updated = stored.created, stored.updated
        self._announce(session, "span.created", stored.created)
        self._announce(session, "span.updated", stored.updated)
        return accepted

    @staticmethod
    def _resource(resource: dict[str, Any], exporter: Exporter) -> dict[str, Any]:
        attributes = {k: v for k, v in resource["attributes"].items() if k not in IDENTITY_ATTRIBUTES}
        return {**resource, "attributes": {**attributes, **exporter.attributes}}

    @staticmethod
    def _row(span: Any, trace_id: str, span_id: str, parent_span_id: str | None, resource: dict[str, Any],
             scope: dict[str, Any], exporter: Exporter, now: int) -> dict[str, Any]:
        attributes = {k: v for k, v in otlp.attributes_of(span.attributes).items() if k not in IDENTITY_ATTRIBUTES}
        events = [{"name": event.name, "time_unix_nano": str(event.time_unix_nano),
                   "attributes": otlp.attributes_of(event.attributes),
                   **({"dropped_attributes_count": event.dropped_attributes_count}
                      if event.dropped_attributes_count else {})} for event in span.events]
        links = [{"trace_id": link.trace_id.hex(), "span_id": link.span_id.hex(), "trace_state": link.trace_state,
                  "attributes": otlp.attributes_of(link.attributes), "flags": link.flags} for link in span.links]
        dropped = {name: count for name, count in (("attributes", span.dropped_attributes_count),
                                                   ("events", span.dropped_events_count),
                                                   ("links", span.dropped_links_count)) if count}
        return {"trace_id": trace_id, "span_id": span_id, "parent_span_id": parent_span_id,
                "trace_state": span.trace_state or None, "flags": span.flags, "name": span.name, "kind": span.kind,
                "start_time_unix_nano": span.start_time_unix_nano, "end_time_unix_nano": span.end_time_unix_nano,
                "status_code": span.status.code, "status_message": span.status.message or None,
                "attributes": attributes, "events": events, "links": links, "resource": resource, "scope": scope,
                "dropped_counts": dropped, "organization_id": exporter.organization_id,
                "identity_id": exporter.identity_id, "agent_id": exporter.agent_id, "thread_id": exporter.thread_id,
                "workload_id": exporter.workload_id, "message_id": None,
                "received_unix_nano": now, "updated_unix_nano": now}

    async def _verify_messages(self, session: AsyncSession, principal: Principal, exporter: Exporter,
                               claimed: set[str]) -> dict[uuid.UUID, uuid.UUID]:
        """The thread of each claimed message; refuses the export unless every one is the caller's to cite."""
        if not claimed:
            return {}
        ids: set[uuid.UUID] = set()
        for text in claimed:
            try:
                ids.add(uuid.UUID(text))
            except ValueError:
                raise otlp.bad_request(f"{MESSAGE_ID} {text[:60]!r} is not a message id") from None
        found = (await session.execute(
            select(Message.id, Message.thread_id, Thread.organization_id).join(Thread, Thread.id == Message.thread_id)
            .where(Message.id.in_(ids)))).all()
        threads = {message_id: (thread_id, organization_id) for message_id, thread_id, organization_id in found}
        readable: dict[uuid.UUID, bool] = {}
        for message_id in ids:
            thread_id, organization_id = threads.get(message_id, (None, None))
            if thread_id is not None and thread_id not in readable:
                readable[thread_id] = organization_id == exporter.organization_id and (
                    thread_id == exporter.thread_id if principal.scope is not None
                    else await self.platform.authz.check(principal, "can_read", objects.thread(thread_id)))
            if thread_id is None or not readable[thread_id]:
                raise OtlpError(403, code_pb2.PERMISSION_DENIED,
                                f"a span claims message {message_id}, which is not in a thread you may read; the "
                                "export is refused")
        return {message_id: thread_id for message_id, (thread_id, _) in threads.items()}

    def _announce(self, session: AsyncSession, event: str, spans: Sequence[tuple[str, str]]) -> None:
        """One event per trace (with its span ids), not per span: a batch of 512 spans is a few events."""
        by_trace: dict[str, list[str]] = defaultdict(list)
        for trace_id, span_id in spans:
            by_trace[trace_id].append(span_id)
        for trace_id, span_ids in by_trace.items():
            self.platform.events.publish_after_commit(session, event, SOURCE, rooms=(trace_room(trace_id),),
                                                      trace_id=trace_id, span_ids=span_ids)

    # --- queries --------------------------------------------------------------------------------

    async def require_member(self, principal: Principal, organization_id: uuid.UUID) -> None:
        if not await self.platform.authz.check(principal, "can_view", objects.organization(organization_id)):
            raise NotFound(f"organization {organization_id} not found")

    async def readable_organizations(self, principal: Principal, organizations: Iterable[uuid.UUID]
                                     ) -> list[uuid.UUID]:
        return [organization_id for organization_id in organizations
                if await self.platform.authz.check(principal, "can_view", objects.organization(organization_id))]

    async def trace(self, session: AsyncSession, principal: Principal, trace_id: str) -> list[Span]:
        """A trace's spans in the organizations the caller is a member of; 404 when there are none."""
        trace_id = normalized_trace_id(trace_id)
        organizations = await self.readable_organizations(
            principal, await repository.trace_organizations(session, trace_id))
        spans = await repository.trace_spans(session, trace_id, organizations) if organizations else []
        if not spans:
            raise NotFound(f"trace {trace_id} not found")
        return spans

    async def may_listen_to_trace(self, principal: Principal, trace_id: str) -> bool:
        async with self.platform.database.transaction() as session:
            organizations = await repository.trace_organizations(session, trace_id)
        return bool(await self.readable_organizations(principal, organizations))

    async def conversation_thread(self, session: AsyncSession, principal: Principal,
                                  conversation_id: uuid.UUID) -> Thread:
        """The conversation's thread, for those who may read it (participants; the organization's owners)."""
        thread = await session.get(Thread, conversation_id)
        if thread is None or not await self.platform.authz.check(principal, "can_read",
                                                                 objects.thread(conversation_id)):
            raise NotFound(f"conversation {conversation_id} not found")
        return thread


def normalized_trace_id(text: str) -> str:
    value = text.strip().lower()
    if len(value) != 32 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidArgument.field("trace_id", "must be 32 hex digits (16 bytes), as OTLP/JSON writes it")
    return value


def _claimed(attributes: dict[str, Any], events: list[dict[str, Any]], resource: dict[str, Any]) -> Iterator[str]:
    for holder in (attributes, resource, *(event["attributes"] for event in events)):
        single = holder.get(MESSAGE_ID)
        if single is not None:
            yield str(single)
        several = holder.get(MESSAGE_IDS)
        if isinstance(several, list):
            yield from (str(item) for item in several)
        elif several is not None:
            yield str(several)
