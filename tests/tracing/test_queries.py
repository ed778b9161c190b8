"""Reading spans back: filters and cursors, the run timeline of a conversation, the `trace:` room, and
retention."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

from agyn.kit.principal import IdentityType, Principal
from agyn.notifications.service import NotificationsService
from agyn.tracing.tasks import purge_expired
from tests.conftest import Api
from tests.runners.test_workload_tokens import mint
from tests.threads.support import make_team
from tests.tracing.support import export, new_span_id, new_trace_id, post, span
from tests.tracing.test_ingest import spans_stored

SECOND = 1_000_000_000


async def test_spans_filter_and_page_newest_first(api: Api) -> None:
    team = await make_team(api)
    trace_id = new_trace_id()
    base = 1_800_000_000 * SECOND
    spans = [span("llm.call" if i % 2 else "other", trace_id, start=base + i * SECOND, end=base + i * SECOND + 5)
             for i in range(7)]
    assert (await post(api, export(*spans), team.bob.token, team.org.id)).status_code == 200
    seen: list[str] = []
    token = None
    while True:
        params = {"organization_id": team.org.id, "page_size": 3, **({"page_token": token} if token else {})}
        page = (await api.client.get("/api/v1/spans", headers=team.bob.headers, params=params)).json()
        seen += [s["start_time_unix_nano"] for s in page["items"]]
        token = page["next_page_token"]
        if not token:
            break
    assert seen == [str(base + i * SECOND) for i in reversed(range(7))]
    named = (await api.client.get("/api/v1/spans", headers=team.bob.headers, params={
        "organization_id": team.org.id, "name": "llm.call", "start": "2027-01-15T08:00:01Z",
        "end": "2027-01-15T08:00:05Z", "trace_id": trace_id.hex()})).json()["items"]
    assert [s["start_time_unix_nano"] for s in named] == [str(base + 3 * SECOND), str(base + 1 * SECOND)]
    bad = await api.client.get("/api/v1/spans", headers=team.bob.headers,
                               params={"organization_id": team.org.id, "page_token": "bogus"})
    assert bad.status_code == 400


async def test_the_run_timeline_shows_each_runs_steps_in_order(api: Api) -> None:
    team = await make_team(api)
    helper = await team.org.agent(nickname="helper")
    thread = await team.thread(team.bob, "@helper")
    first = await team.sent(team.bob, thread["id"], "weather in Paris?")
    second = await team.sent(team.bob, thread["id"], "and tomorrow?")
    token = await mint(api, helper["id"], thread["id"], team.org.id)
    base = 1_800_000_000 * SECOND
    runs = []
    for number, message in enumerate((first, second)):
        trace_id, root = new_trace_id(), new_span_id()
        start = base + number * 100 * SECOND
        llm = new_span_id()
        runs.append(export(
            span("invocation.message", trace_id, root, start=start, end=start + 10 * SECOND,
                 attrs={"agyn.thread.message.id": message["id"], "agyn.thread.message.ids": [message["id"]],
                        "agyn.response.text": "sunny"},
                 events=[("agyn.message.received", start, {"agyn.thread.message.id": message["id"],
                                                           "agyn.message.text": message["body"]})]),
            span("llm.call", trace_id, llm, parent=root, start=start + SECOND, end=start + 2 * SECOND,
                 attrs={"gen_ai.operation.name": "chat", "gen_ai.request.model": "m",
                        "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 3,
                        "agyn.llm.tool_calls": json.dumps([{"name": "get_weather", "arguments": "{}"}])},
                 events=[("agyn.llm.context_item", start + SECOND, {"agyn.context.role": "user",
                                                                     "agyn.context.text": message["body"],
                                                                     "agyn.context.is_new": True})]),
            span("execute_tool get_weather", trace_id, parent=root, start=start + 3 * SECOND, end=start + 4 * SECOND,
                 attrs={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                        "gen_ai.tool.call.arguments": "{}", "gen_ai.tool.call.result": "boom"}, error="tool failed")))
    for body in runs:
        assert (await post(api, body, token)).status_code == 200
    page = (await api.client.get(f"/api/v1/conversations/{thread['id']}/runs", headers=team.bob.headers,
                                 params={"page_size": 1})).json()
    [run] = page["items"]
    assert run["status"] == "ok" and run["message_ids"] == [first["id"]] and run["agent_id"] == helper["id"]
    assert run["response"] == "sunny" and run["duration_ms"] == 10_000
    assert [e["type"] for e in run["events"]] == ["message", "llm_call", "tool_execution"]
    message, llm, tool = run["events"]
    assert message["text"] == "weather in Paris?" and message["message_id"] == first["id"]
    assert llm["model"] == "m" and llm["usage"] == {"input_tokens": 10, "output_tokens": 3}
    assert llm["input"] == [{"role": "user", "text": "weather in Paris?", "is_new": True}]
    assert llm["tool_calls"] == [{"name": "get_weather", "arguments": "{}"}] and llm["duration_ms"] == 1000
    assert (tool["tool"], tool["input"], tool["output"], tool["status"], tool["error"]) == (
        "get_weather", "{}", "boom", "error", "tool failed")
    following = (await api.client.get(f"/api/v1/conversations/{thread['id']}/runs", headers=team.bob.headers,
                                      params={"page_token": page["next_page_token"]})).json()
    assert [r["message_ids"] for r in following["items"]] == [[second["id"]]]
    assert following["next_page_token"] is None
    # who may not read the conversation does not learn it exists
    assert (await api.client.get(f"/api/v1/conversations/{thread['id']}/runs",
                                 headers=team.outsider.headers)).status_code == 404


async def test_trace_rooms_are_for_members_of_the_traces_organization(api: Api) -> None:
    team = await make_team(api)
    trace_id = new_trace_id()
    assert (await post(api, export(span("s", trace_id)), team.bob.token, team.org.id)).status_code == 200
    notifications = api.app.state.platform.get(NotificationsService)
    room = f"trace:{trace_id.hex()}"
    carol = Principal(uuid.UUID(team.carol.id), IdentityType.user)
    assert await notifications.grant(carol, [room]) == [room]  # hex, as the events name it
    refused = await api.client.get("/api/v1/events", headers=team.outsider.headers, params={"rooms": room})
    assert refused.status_code == 403
    unknown = await api.client.get("/api/v1/events", headers=team.bob.headers,
                                   params={"rooms": f"trace:{new_trace_id().hex()}"})
    assert unknown.status_code == 403


async def test_retention_purges_old_spans_in_batches(api: Api) -> None:
    team = await make_team(api)
    platform = api.app.state.platform
    now_ns = int(platform.clock.now().timestamp() * SECOND)
    old = [span("old", new_trace_id(), start=now_ns - 20 * 86400 * SECOND) for _ in range(5)]
    assert (await post(api, export(*old, span("new", new_trace_id(), start=now_ns)), team.bob.token,
                       team.org.id)).status_code == 200
    settings = api.settings.tracing.model_copy(update={"purge_batch_size": 2, "retention": timedelta(days=14)})
    assert await purge_expired(platform, settings) == 5
    assert await spans_stored(api) == 1
