"""`POST /v1/traces`: OTLP/HTTP in protobuf and JSON, upsert on (trace_id, span_id), identities stamped by
the server, claims of messages checked, and every refusal in OTLP's own error form with nothing written."""

from __future__ import annotations

import gzip
import json
import uuid

from google.rpc import code_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from sqlalchemy import func, select

from agyn.tracing.models import Span
from tests.conftest import Api
from tests.runners.test_workload_tokens import mint
from tests.threads.support import Events, make_team
from tests.tracing.support import export, new_span_id, new_trace_id, post, span


async def spans_stored(api: Api) -> int:
    async with api.app.state.platform.database.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(Span)) or 0)


def status_of(body: bytes) -> status_pb2.Status:
    return status_pb2.Status.FromString(body)


async def test_a_span_in_progress_completes_on_re_export_and_identity_is_the_servers(api: Api) -> None:
    team = await make_team(api)
    events = Events(api, "span.created", "span.updated")
    trace_id, span_id = new_trace_id(), new_span_id()
    forged = {"agyn.organization.id": str(uuid.uuid4()), "agyn.agent.id": str(uuid.uuid4()), "service.name": "svc"}
    opened = await post(api, export(span("job", trace_id, span_id, start=1_000, end=0,
                                         attrs={"agyn.thread.id": str(uuid.uuid4()), "step": 1}), resource=forged),
                        team.bob.token, team.org.id)
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(opened.content).HasField("partial_success")
    listed = await api.client.get("/api/v1/spans", headers=team.bob.headers,
                                  params={"organization_id": team.org.id, "in_progress": "true"})
    [found] = listed.json()["items"]
    assert found["in_progress"] is True and found["end_time"] is None and found["end_time_unix_nano"] == "0"
    assert found["span_id"] == span_id.hex() and found["trace_id"] == trace_id.hex()
    # what the producer claimed about who it is was replaced by what the server knows
    assert found["resource"]["attributes"] == {"service.name": "svc", "agyn.organization.id": team.org.id,
                                               "agyn.identity.id": team.bob.id}
    assert found["attributes"] == {"step": 1} and found["organization_id"] == team.org.id
    assert [(e.name, e.rooms) for e in events.take()] == [("span.created", (f"trace:{trace_id.hex()}",))]

    closed = await post(api, export(span("job", trace_id, span_id, start=1_000, end=5_000_000, attrs={"step": 2})),
                        team.bob.token, team.org.id)
    assert closed.status_code == 200, closed.text
    [done] = (await api.client.get("/api/v1/spans", headers=team.bob.headers,
                                   params={"organization_id": team.org.id})).json()["items"]
    assert done["in_progress"] is False and done["duration_ms"] == 4.999 and done["attributes"] == {"step": 2}
    assert [e.name for e in events.take()] == ["span.updated"]
    # a late export of the span in progress does not reopen it
    stale = await post(api, export(span("job", trace_id, span_id, start=1_000, end=0)), team.bob.token, team.org.id)
    assert stale.status_code == 200
    [still] = (await api.client.get(f"/api/v1/traces/{trace_id.hex()}", headers=team.bob.headers)).json()["roots"]
    assert still["in_progress"] is False and still["attributes"] == {"step": 2}
    assert await spans_stored(api) == 1


async def test_json_exports_use_hex_ids_and_answer_in_json(api: Api) -> None:
    team = await make_team(api)
    trace_id, parent_id, child_id = new_trace_id().hex(), new_span_id().hex(), new_span_id().hex()
    body = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "js"}}]},
                               "scopeSpans": [{"scope": {"name": "lib", "version": "1"}, "spans": [
                                   {"traceId": trace_id, "spanId": parent_id, "name": "parent", "kind": 2,
                                    "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000001000000000",
                                    "unknownField": "ignored"},
                                   {"traceId": trace_id, "spanId": child_id, "parentSpanId": parent_id, "name": "child",
                                    "startTimeUnixNano": "1700000000500000000", "endTimeUnixNano": "0",
                                    "attributes": [{"key": "n", "value": {"intValue": "7"}}],
                                    "status": {"code": 2, "message": "boom"}}]}]}]}
    response = await api.client.post("/v1/traces", content=gzip.compress(json.dumps(body).encode()), headers={
        "Content-Type": "application/json", "Content-Encoding": "gzip", **team.bob.headers,
        "x-agyn-organization-id": team.org.id})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json" and response.json() == {}
    tree = (await api.client.get(f"/api/v1/traces/{trace_id}", headers=team.carol.headers)).json()
    [root] = tree["roots"]
    assert (root["name"], root["kind"], root["scope"]["name"]) == ("parent", "server", "lib")
    [child] = root["children"]
    assert child["attributes"] == {"n": 7} and child["status"] == {"code": "error", "message": "boom"}
    assert child["in_progress"] is True
    summary = (await api.client.get(f"/api/v1/traces/{trace_id}/summary", headers=team.bob.headers)).json()
    assert summary["span_count"] == 2 and summary["in_progress"] == 1 and summary["errors"] == 1
    assert summary["end_time"] is None
    assert {(n["name"], n["count"]) for n in summary["by_name"]} == {("parent", 1), ("child", 1)}


async def test_bad_exports_are_refused_in_otlp_form_and_write_nothing(api: Api) -> None:
    team = await make_team(api)
    good = export(span("ok", new_trace_id()))

    malformed = await post(api, b"\xff\xff\xff not protobuf", team.bob.token, team.org.id)
    assert malformed.status_code == 400 and status_of(malformed.content).code == code_pb2.INVALID_ARGUMENT
    bad_json = await api.client.post("/v1/traces", content=b"{not json", headers={
        "Content-Type": "application/json", **team.bob.headers, "x-agyn-organization-id": team.org.id})
    assert bad_json.status_code == 400 and bad_json.json()["code"] == code_pb2.INVALID_ARGUMENT
    wrong_type = await post(api, good, team.bob.token, team.org.id, headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415 and "application/x-protobuf" in status_of(wrong_type.content).message
    settings = api.settings.tracing
    oversized = await post(api, b"\0" * (settings.max_body_bytes + 1), team.bob.token, team.org.id)
    assert oversized.status_code == 413 and status_of(oversized.content).code == code_pb2.RESOURCE_EXHAUSTED
    bomb = await post(api, gzip.compress(b"\0" * (settings.max_body_bytes * 2)), team.bob.token, team.org.id,
                      headers={"Content-Encoding": "gzip"})
    assert bomb.status_code == 413, bomb.content
    trace_id = new_trace_id()
    many = export(*(span("s", trace_id) for _ in range(settings.max_spans_per_export + 1)))
    too_many = await post(api, many, team.bob.token, team.org.id)
    assert too_many.status_code == 413 and "smaller batches" in status_of(too_many.content).message
    assert (await post(api, good, "agyn_not-a-token", team.org.id)).status_code == 401
    assert (await post(api, good, team.bob.token)).status_code == 400  # which organization?
    outsider = await post(api, good, team.outsider.token, team.org.id)
    assert outsider.status_code == 403 and status_of(outsider.content).code == code_pb2.PERMISSION_DENIED
    assert await spans_stored(api) == 0


async def test_invalid_spans_and_spans_of_another_caller_are_rejected_in_part(api: Api) -> None:
    team = await make_team(api)
    trace_id, taken = new_trace_id(), new_span_id()
    assert (await post(api, export(span("bob's", trace_id, taken, attrs={"v": "bob"})), team.bob.token,
                       team.org.id)).status_code == 200
    response = await post(api, export(span("carol's", trace_id, taken, attrs={"v": "carol"}),
                                      span("fresh", trace_id), span("bad", b"\0" * 16)), team.carol.token, team.org.id)
    assert response.status_code == 200, response.content
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 2 and "another caller" in partial.error_message
    tree = (await api.client.get(f"/api/v1/traces/{trace_id.hex()}", headers=team.bob.headers)).json()
    assert sorted((s["name"], s["attributes"].get("v")) for s in tree["roots"]) == [("bob's", "bob"), ("fresh", None)]


async def test_a_workload_exports_as_itself_and_only_claims_its_own_threads_messages(api: Api) -> None:
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper")
    mine = await team.thread(team.bob, "@helper")
    other = await team.thread(team.carol, "@helper")
    asked = await team.sent(team.bob, mine["id"], "hello")
    elsewhere = await team.sent(team.carol, other["id"], "secret")
    workload_id = uuid.uuid4()
    token = await mint(api, helper["id"], mine["id"], team.org.id, workload_id=workload_id)

    trace_id = new_trace_id()
    claim_other = export(span("invocation.message", trace_id, attrs={"agyn.thread.message.id": asked["id"]}),
                         span("llm.call", trace_id, events=[("e", 1, {"agyn.thread.message.id": elsewhere["id"]})]))
    refused = await post(api, claim_other, token)
    assert refused.status_code == 403 and elsewhere["id"] in status_of(refused.content).message
    assert await spans_stored(api) == 0  # the whole export, not just the lying span

    ok = await post(api, export(span("invocation.message", trace_id, attrs={"agyn.thread.message.id": asked["id"]}),
                                resource={"agyn.thread.id": other["id"]}), token, str(uuid.uuid4()))
    assert ok.status_code == 200, ok.content
    [stored] = (await api.client.get("/api/v1/spans", headers=team.bob.headers, params={
        "organization_id": team.org.id, "message_id": asked["id"]})).json()["items"]
    assert (stored["thread_id"], stored["agent_id"], stored["workload_id"]) == (mine["id"], helper["id"],
                                                                               str(workload_id))
    assert stored["resource"]["attributes"]["agyn.thread.id"] == mine["id"]  # not what it claimed
    # reading traces is not a workload's business
    assert (await api.client.get(f"/api/v1/traces/{trace_id.hex()}", headers=api.auth(token))).status_code == 403
    assert (await api.client.get("/api/v1/spans", headers=api.auth(token),
                                 params={"organization_id": team.org.id})).status_code == 403


async def test_members_read_their_organizations_traces_only(api: Api) -> None:
    team = await make_team(api)
    trace_id = new_trace_id()
    assert (await post(api, export(span("mine", trace_id)), team.bob.token, team.org.id)).status_code == 200
    assert (await api.client.get(f"/api/v1/traces/{trace_id.hex()}", headers=team.carol.headers)).status_code == 200
    for path in (f"/api/v1/traces/{trace_id.hex()}", f"/api/v1/traces/{trace_id.hex()}/summary"):
        assert (await api.client.get(path, headers=team.outsider.headers)).status_code == 404
    assert (await api.client.get("/api/v1/spans", headers=team.outsider.headers,
                                 params={"organization_id": team.org.id})).status_code == 404
    assert (await api.client.get("/api/v1/traces/not-hex", headers=team.bob.headers)).status_code == 400
    # an admin of the cluster may name any organization
    assert (await post(api, export(span("admin", new_trace_id())), api.admin_token, team.org.id)).status_code == 200


async def test_a_cycle_of_parent_ids_still_gives_a_tree(api: Api) -> None:
    team = await make_team(api)
    trace_id, a, b = new_trace_id(), new_span_id(), new_span_id()
    assert (await post(api, export(span("a", trace_id, a, parent=b, start=1), span("b", trace_id, b, parent=a, start=2)),
                       team.bob.token, team.org.id)).status_code == 200
    tree = (await api.client.get(f"/api/v1/traces/{trace_id.hex()}", headers=team.bob.headers)).json()
    [root] = tree["roots"]
    assert (root["name"], [c["name"] for c in root["children"]], root["children"][0]["children"]) == ("a", ["b"], [])
