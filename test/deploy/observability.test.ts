// The dashboard and the alert rules read metrics that exist: after real work through a stack
// (jobs done and failed, a passthrough request, a model swap, webhooks delivered and given up,
// work waiting), every metric they name is in the /metrics scrape, with the type its suffix
// implies and the labels their matchers and groupings name.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { chatRequest, postJob, startStack, waitFor, type Stack, workerBusy } from "../harness.ts";
import { alertRules, dashboardFile, groupingLabels, metricNames, selectors } from "./promql.ts";

interface Family {
  type: string;
  labels: Set<string>;
  samples: number;
}

/** Labels Prometheus adds at scrape time, and `up`, the metric it makes of every scrape. */
const SCRAPE_LABELS = new Set(["instance", "job"]);
const SCRAPE_METRICS = new Set(["up"]);

let stack: Stack;
let families: Map<string, Family>;

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 2, loadMs: 5, maxLoaded: 1 }, start: { webhooks: { schedule: [10], timeoutMs: 5000 } } });
  const { url, sim, foreman } = stack;
  await waitFor(() => foreman.services.poller.tags, { what: "the poller's first /api/tags" });
  const receiver = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
  try {
    const delivered = await postJob(url, { request: chatRequest("llama3.2"), webhook: `http://127.0.0.1:${receiver.port}/hook` }, { prefer: "wait=30" });
    expect(delivered.job.status).toBe("done");
    expect((await postJob(url, { request: chatRequest("mistral"), webhook: { url: "http://127.0.0.1:9/hook", events: ["job.done"] } }, { prefer: "wait=30" })).job.status).toBe("done");
    expect((await postJob(url, { request: chatRequest("no-such-model") }, { prefer: "wait=30" })).job.status).toBe("failed");
    const chat = await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ ...chatRequest("llama3.2"), stream: false }) });
    expect(chat.status).toBe(200);
    await chat.text();
    await waitFor(() => foreman.services.dispatcher.deliveries(delivered.job.id).every((d) => d.status === "delivered"), { what: "the webhooks to be delivered" });
    await waitFor(async () => (await (await fetch(`${url}/metrics`)).text()).includes("foreman_webhook_deliveries_failed_total 1\n"), { what: "a delivery to be given up" });
  } finally {
    await receiver.stop(true);
  }
  // work on the target and work waiting while the scrape is taken
  await sim.setFaults({ firstByteDelayMs: 5000 });
  const running = await postJob(url, { request: chatRequest("llama3.2") });
  const waiting = await postJob(url, { request: chatRequest("mistral") });
  await waitFor(() => workerBusy(foreman), { what: "a job on the target" });
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const { job } of [waiting, running]) await fetch(`${url}/jobs/${job.id}/cancel`, { method: "POST" });
  families = readFamilies(text);
});

/**
 * Each family of a scrape with its type (from a real parser), its samples and the labels they
 * carry (read here: the parser drops a histogram's labels).
 */
function readFamilies(text: string): Map<string, Family> {
  const out = new Map<string, Family>(parsePrometheusTextFormat(text).map((f) => [f.name, { type: f.type, labels: new Set<string>(), samples: 0 }]));
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (!m) continue;
    const family = out.get(m[1]!) ?? out.get(m[1]!.replace(/_(bucket|sum|count)$/, ""));
    if (!family) throw new Error(`a sample of no family: ${line}`);
    family.samples++;
    for (const l of (m[2] ?? "").matchAll(/(\w+)="/g)) family.labels.add(l[1]!);
  }
  return out;
}
afterAll(() => stack?.stop());

/** The family a name in a query reads: itself, or a histogram's _bucket, _sum or _count series. */
function familyOf(name: string): { family: Family; suffix: string } | undefined {
  const exact = families.get(name);
  if (exact) return { family: exact, suffix: "" };
  const m = /^(.+)_(bucket|sum|count)$/.exec(name);
  const histogram = m && families.get(m[1]!);
  return histogram?.type === "HISTOGRAM" ? { family: histogram, suffix: m![2]! } : undefined;
}

function checkExpr(where: string, expr: string): void {
  const read = metricNames(expr).filter((n) => !SCRAPE_METRICS.has(n));
  expect(read.length + metricNames(expr).filter((n) => SCRAPE_METRICS.has(n)).length, `${where}: reads no metric`).toBeGreaterThan(0);
  const labelsRead = new Set<string>(SCRAPE_LABELS);
  for (const name of read) {
    const found = familyOf(name);
    expect(found, `${where}: ${name} is not in a /metrics scrape`).toBeDefined();
    const { family, suffix } = found!;
    expect(family.samples, `${where}: ${name} has no samples after real work`).toBeGreaterThan(0);
    // rates of counters and histograms, not of gauges; quantiles of buckets
    if (new RegExp(`\\b(rate|increase)\\(\\s*${name}\\b`).test(expr) && suffix === "") expect(family.type, `${where}: rate of ${name}`).toBe("COUNTER");
    for (const label of family.labels) if (label !== "le" || suffix === "bucket") labelsRead.add(label);
  }
  for (const { metric, labels } of selectors(expr)) {
    const found = familyOf(metric);
    if (!found) continue;
    for (const label of labels) if (!SCRAPE_LABELS.has(label)) expect(found.family.labels.has(label), `${where}: ${metric} has no label ${label}`).toBe(true);
  }
  for (const label of groupingLabels(expr)) expect(labelsRead.has(label), `${where}: groups by ${label}, which none of ${read.join(", ")} has`).toBe(true);
}

describe("every metric the shipped dashboard and alert rules read", () => {
  test("the dashboard's queries", async () => {
    const dashboard = await dashboardFile();
    const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })));
    expect(queries.length).toBeGreaterThan(20);
    for (const { where, expr } of queries) checkExpr(where, expr);
    // the instance variable's query too
    expect(families.has("foreman_target_up")).toBe(true);
  });

  test("the alert rules' expressions", async () => {
    for (const rule of await alertRules()) checkExpr(`alert ${rule.alert}`, rule.expr);
  });

  test("the check itself catches a misspelt metric, a missing label and a grouping by a label no metric has", () => {
    expect(() => checkExpr("test", 'sum(foreman_job_finished_total{instance=~".*"})')).toThrow(/not in a \/metrics scrape/);
    expect(() => checkExpr("test", 'foreman_jobs{modle="x"}')).toThrow(/has no label modle/);
    expect(() => checkExpr("test", "sum by (modle) (foreman_jobs)")).toThrow(/groups by modle/);
    expect(() => checkExpr("test", "rate(foreman_target_up[5m])")).toThrow(/rate of foreman_target_up/);
  });
});
