// One vocabulary (ADR 0034): every JSON document foreman itself writes names its fields in
// snake_case — the schemas of its own routes, /status, jobs, events, webhooks, errors and log
// lines. Relayed bodies (/api/*, /v1/*, /) keep the target's and the vendors' names.
import { expect, test } from "bun:test";
import { createLogger } from "../../src/ops/log.ts";
import { chatRequest, postJob, startStack } from "../harness.ts";
import { startReceiver } from "../webhooks/receiver.ts";

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

/** Object keys that are not snake_case, with their paths; `skip` names keys whose values are maps keyed by data (model names, metadata). */
function offenders(value: unknown, skip: ReadonlySet<string>, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => offenders(v, skip, `${path}[${i}]`));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [...(SNAKE.test(k) ? [] : [`${path}/${k}`]), ...(skip.has(k) ? [] : offenders(v, skip, `${path}/${k}`))]);
}

/** Property names declared anywhere under `node`, following $refs into the document's components. */
function declared(doc: any, node: unknown, seen = new Set<unknown>()): string[] {
  if (node === null || typeof node !== "object" || seen.has(node)) return [];
  seen.add(node);
  const here = node as Record<string, unknown>;
  const ref = typeof here.$ref === "string" ? here.$ref.replace(/^#\//, "").split("/").reduce((at: any, part) => at?.[part], doc) : undefined;
  const names = here.properties && typeof here.properties === "object" && !Array.isArray(here.properties) ? Object.keys(here.properties) : [];
  return [...names, ...Object.values(here).flatMap((v) => declared(doc, v, seen)), ...declared(doc, ref, seen)];
}

const DATA_KEYED = new Set(["by_model", "oldest_queued_age_seconds_by_model", "metadata", "artifact", "request"]);

test("the schemas of foreman's own routes declare snake_case fields only", async () => {
  const stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0 } });
  try {
    const doc = (await (await fetch(`${stack.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    const own = Object.entries(doc.paths).filter(([path]) => path !== "/" && !path.startsWith("/api/") && !path.startsWith("/v1/"));
    expect(own.map(([path]) => path)).toContain("/status");
    const names = own.flatMap(([path, item]) => declared(doc, item).map((name) => `${path}: ${name}`));
    expect(names.length).toBeGreaterThan(30);
    expect(names.filter((n) => !SNAKE.test(n.slice(n.indexOf(": ") + 2)))).toEqual([]);
  } finally {
    await stack.stop();
  }
});

test("/status, a job, its events, its webhooks, an error and the log lines are snake_case", async () => {
  const lines: string[] = [];
  const hooks = startReceiver();
  const stack = await startStack({
    sim: { tokenDelayMs: 1, loadMs: 1 },
    foreman: { logLevel: "debug", webhookAllow: "127.0.0.1" },
    start: { log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }) },
  });
  try {
    const { job } = await postJob(stack.url, { request: chatRequest(), webhook: { url: hooks.url }, metadata: { someKey: 1 } }, { prefer: "wait=30" });
    expect(job.status).toBe("done");
    await (await fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...chatRequest(), stream: false }) })).text();
    const documents: [string, unknown][] = [
      ["/status", await (await fetch(`${stack.url}/status`)).json()],
      ["/jobs/{id}", await (await fetch(`${stack.url}/jobs/${job.id}`)).json()],
      ["/jobs", await (await fetch(`${stack.url}/jobs?lane=interactive`)).json()],
      ["/jobs/{id}/deliveries", await (await fetch(`${stack.url}/jobs/${job.id}/deliveries`)).json()],
      ["an error", await (await fetch(`${stack.url}/jobs`, { method: "POST", body: "{}" })).json()],
    ];
    const events = (await (await fetch(`${stack.url}/jobs/${job.id}/events`)).text()).split("\n").filter((l) => l.startsWith("data: "));
    documents.push(...events.map((l, i): [string, unknown] => [`event ${i}`, JSON.parse(l.slice(6))]));
    const delivered = await hooks.until((r) => r.some((h) => h.json.type === "job.done"));
    documents.push(...delivered.map((h, i): [string, unknown] => [`webhook ${i}`, h.json]));
    documents.push(...lines.map((l, i): [string, unknown] => [`log line ${i}`, JSON.parse(l)]));
    expect(documents.filter(([, d]) => d === null || typeof d !== "object").map(([name]) => name)).toEqual([]);
    expect(documents.flatMap(([name, d]) => offenders(d, DATA_KEYED).map((p) => `${name}: ${p}`))).toEqual([]);
    // the job's own metadata is the caller's, named as the caller likes
    expect(job.metadata).toEqual({ someKey: 1 });
  } finally {
    await stack.stop();
    hooks.stop();
  }
});
