// The organization's usage: tokens per model per day (a uPlot chart), requests and compute seconds.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api } from "./api.js";
import { h } from "./dom.js";

const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4b5563"];
const DAY = 86400;

function total(report) {
  return report.buckets.reduce((sum, bucket) => sum + bucket.value, 0);
}

export async function showUsage(container, organizationId) {
  container.replaceChildren(h("p", { class: "muted" }, "Loading usage…"));
  const query = (params) => api(`/api/v1/usage?${new URLSearchParams({ organization_id: organizationId, ...params })}`);
  const [tokens, requests, compute] = await Promise.all([
    query({ unit: "TOKENS", group_by: "model", granularity: "day" }),
    query({ unit: "COUNT" }),
    query({ unit: "CORE_SECONDS" }),
  ]);
  const figures = h("dl", { class: "usage-figures" },
    h("div", {}, h("dt", {}, "Tokens (30 days)"), h("dd", { "data-testid": "usage-tokens" }, Math.round(total(tokens)).toLocaleString())),
    h("div", {}, h("dt", {}, "Requests"), h("dd", { "data-testid": "usage-requests" }, Math.round(total(requests)).toLocaleString())),
    h("div", {}, h("dt", {}, "Compute seconds"), h("dd", { "data-testid": "usage-compute" }, total(compute).toFixed(1))));
  const chart = h("div", { class: "usage-chart", "data-testid": "usage-chart" });
  container.replaceChildren(h("h2", {}, "Usage"), figures, h("h3", {}, "Tokens per model per day"), chart);
  const models = [...new Set(tokens.buckets.map((b) => b.group ?? "(no model)"))].sort();
  if (!models.length) {
    chart.append(h("p", { class: "muted" }, "No tokens used in the last 30 days."));
    return;
  }
  const first = Math.floor(new Date(tokens.start).getTime() / 1000 / DAY) * DAY;
  const last = Math.floor(new Date(tokens.end).getTime() / 1000 / DAY) * DAY;
  const days = [];
  for (let day = first; day <= last; day += DAY) days.push(day);
  const series = models.map((model) => {
    const byDay = new Map(tokens.buckets.filter((b) => (b.group ?? "(no model)") === model)
      .map((b) => [Math.floor(new Date(b.start).getTime() / 1000 / DAY) * DAY, b.value]));
    return days.map((day) => byDay.get(day) ?? 0);
  });
  const width = Math.max(280, Math.min(900, container.clientWidth - 16));
  new uPlot({
    width, height: 280,
    series: [{}, ...models.map((model, i) => ({ label: model, stroke: COLORS[i % COLORS.length], width: 2,
      fill: `${COLORS[i % COLORS.length]}22`, points: { show: true } }))],
    axes: [{}, { label: "tokens", size: 70 }],
    scales: { x: { time: true } },
  }, [days, ...series], chart);
}
