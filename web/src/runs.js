// "View run": the run timeline of a conversation (GET /api/v1/conversations/{id}/runs, oldest first) —
// each run's steps in order: messages received, LLM calls, tool executions, summarizations.
import { api } from "./api.js";
import { h } from "./dom.js";

const TITLES = { message: "Message received", llm_call: "LLM call", tool_execution: "Tool call", summarization: "Summarization" };

function duration(ms) {
  return ms == null ? null : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function tokens(usage) {
  if (!usage || (usage.input_tokens == null && usage.output_tokens == null)) return null;
  return `${usage.input_tokens ?? "?"} in / ${usage.output_tokens ?? "?"} out tokens`;
}

function detail(label, value, open = false) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return null;
  const text = typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return h("details", { class: "run-detail", open }, h("summary", {}, label), h("pre", {}, text));
}

function contextItems(items) {
  if (!Array.isArray(items)) return detail("Input", items);
  const lines = items.map((item) => `${item.is_new ? "+ " : "  "}[${item.role}] ${item.text}`).join("\n");
  return detail(`Input (${items.length} items; + new in this run)`, lines);
}

function eventItem(event, models) {
  const type = event.type;
  const facts = [models.get(event.model) || event.model, event.tool, tokens(event.usage), duration(event.duration_ms),
    event.status === "error" || event.error ? `error: ${event.error || "failed"}` : null,
    event.end_time == null && type !== "message" ? "in progress" : null].filter(Boolean);
  return h("li", { class: `run-event run-${type}`, dataset: { kind: type } },
    h("div", { class: "run-event-head" }, h("strong", {}, TITLES[type] || type), facts.length ? ` · ${facts.join(" · ")}` : ""),
    event.text ? h("div", { class: "run-text" }, event.text) : null,
    type === "llm_call" ? contextItems(event.input) : detail("Input", event.input),
    detail("Tool calls", event.tool_calls?.map((call) => `${call.name}(${call.arguments})`).join("\n")),
    detail(type === "summarization" ? "Summary" : "Output", event.output, type !== "llm_call"));
}

async function allRuns(conversationId) {
  const runs = [];
  let token = null;
  do {
    const query = new URLSearchParams({ page_size: "100" });
    if (token) query.set("page_token", token);
    const page = await api(`/api/v1/conversations/${conversationId}/runs?${query}`);
    runs.push(...page.items);
    token = page.next_page_token;
  } while (token);
  return runs;
}

/** Model ids → names, for the organization's members (a model the caller cannot see keeps its id). */
async function modelNames(organizationId) {
  try {
    const page = await api(`/api/v1/models?${new URLSearchParams({ organization_id: organizationId, page_size: "100" })}`);
    return new Map(page.items.map((model) => [model.id, model.name]));
  } catch {
    return new Map();
  }
}

/** The run that posted `message`: the one whose answer it is, else the last one started before it. */
function runOf(runs, message) {
  const answered = runs.filter((run) => run.response != null && run.response.trim() === message.body.trim());
  if (answered.length) return answered[answered.length - 1];
  const before = runs.filter((run) => run.start_time && run.start_time <= message.created_at);
  return before[before.length - 1] || runs[runs.length - 1];
}

export async function showRuns(dialog, conversationId, message, organizationId) {
  const body = dialog.querySelector(".dialog-body");
  body.replaceChildren(h("p", { class: "muted" }, "Loading the run timeline…"));
  dialog.showModal();
  let runs;
  let models;
  try {
    [runs, models] = await Promise.all([allRuns(conversationId), modelNames(organizationId)]);
  } catch (error) {
    body.replaceChildren(h("p", { class: "error" }, error.status === 404
      ? "This server keeps no run timelines (tracing is not available)." : error.message));
    return;
  }
  if (!runs.length) {
    body.replaceChildren(h("p", { class: "muted" }, "No runs recorded for this conversation yet."));
    return;
  }
  const selected = runOf(runs, message);
  const sections = runs.map((run, index) => h("section", {
    class: `run${run === selected ? " run-selected" : ""}`, "aria-label": `Run ${index + 1}`,
    "data-testid": run === selected ? "selected-run" : "run",
  },
    h("h3", {}, `Run ${index + 1}`, h("span", { class: "muted" },
      [run.start_time ? ` · ${new Date(run.start_time).toLocaleString()}` : "", duration(run.duration_ms) ? ` · ${duration(run.duration_ms)}` : "",
        ` · ${run.status.replace("_", " ")}`, run.error ? ` · ${run.error}` : ""].join(""))),
    h("ol", { class: "run-events" }, run.events.map((event) => eventItem(event, models)))));
  body.replaceChildren(...sections);
  body.querySelector(".run-selected").scrollIntoView({ block: "start" });
}
