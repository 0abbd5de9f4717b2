// Usage (ADR 0036): how long GET /usage takes over a year of history from 100,000 finished jobs,
// by each grouping, against the same sums read from the jobs table itself (what the rollup
// saves); and what the rollup adds to marking a job done (five upserts in the same transaction).
// The history is written through the queue's own transitions, with the finish times spread over
// the last year, so the rollup holds what the worker would have written.
// Run: bun bench/usage.ts
import { join } from "node:path";
import { ASYNC, INTERACTIVE, Queue } from "../src/queue/queue.ts";
import { UsageLedger } from "../src/queue/usage.ts";
import { USAGE_DIMENSIONS } from "../src/contract/usage.ts";
import { startTestForeman, tempDir, testQueue } from "../test/harness.ts";
import { prng } from "../src/sim/output.ts";
import { openStore } from "../src/store/open.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const JOBS = 100_000;
const QUERIES = 100;
const YEAR_MS = 365 * 86_400_000;
const random = prng(20);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
const MODELS = Array.from({ length: 12 }, (_, i) => `model-${i}`);
const ENDPOINTS = ["/api/chat", "/api/generate", "/api/embed", "/v1/chat/completions", "/v1/messages", "/v1/responses"];
const CLIENTS = Array.from({ length: 40 }, (_, i) => `192.168.1.${i + 10} ${pick(["ollama-js", "OpenAI", "curl", "foreman"])}`);
const TAGS = [...Array.from({ length: 20 }, (_, i) => `tag-${i}`), null];

/** Marks `n` jobs done, finishing at times from `at()`; returns the ms per job. */
function history(queue: Queue, n: number, at: (i: number) => number, setClock: (ms: number) => void): number {
  const t0 = performance.now();
  for (let start = 0; start < n; start += 1000) {
    queue.atomically(() => {
      for (let i = start; i < Math.min(n, start + 1000); i++) {
        const lane = random() < 0.5 ? ASYNC : INTERACTIVE;
        const job = queue.enqueue({ lane, endpoint: pick(ENDPOINTS), model: pick(MODELS), client: pick(CLIENTS), tag: pick(TAGS) });
        queue.transition(job.id, "working", { attempt: true });
        setClock(at(i));
        const output = Math.floor(random() * 800);
        const usage = { prompt_tokens: Math.floor(random() * 2000), output_tokens: output, load_ms: random() < 0.1 ? 3000 : 0, prompt_eval_ms: 40, generation_ms: output * 20, target_ms: output * 20 + 60, estimated: random() < 0.05 };
        queue.transition(job.id, "done", { usage }, "deferred");
      }
    }, "deferred");
  }
  return (performance.now() - t0) / n;
}

const now = Date.now();
let clock = now;
const setClock = (ms: number) => (clock = ms);

// what the rollup adds to a job's end: the same history with and without the ledger's hook
const plain = testQueue(() => clock);
const withoutMs = history(plain.queue, 20_000, () => now, setClock);
plain.remove();
const measured = testQueue(() => clock);
new UsageLedger(measured.store.db).install(measured.queue);
const withMs = history(measured.queue, 20_000, () => now, setClock);
measured.remove();

// a year of history from 100,000 jobs, kept in a database foreman then opens
const dir = tempDir("foreman-bench-usage-");
const db = join(dir.path, "usage.db");
const { baseline, rows, buckets } = (() => {
  const store = openStore(db);
  const queue = new Queue(store.db, () => clock, store.durability);
  const ledger = new UsageLedger(store.db);
  ledger.install(queue);
  history(queue, JOBS, () => now - Math.floor(random() * YEAR_MS), setClock);
  store.durability.syncNow();
  // the baseline: the same sums from the jobs table, as /usage would cost without the rollup
  const fromJobs = store.db.query<unknown, [number]>(
    `SELECT model_key, SUM(json_extract(usage, '$.prompt_tokens')), SUM(json_extract(usage, '$.output_tokens')), SUM(json_extract(usage, '$.target_ms')), COUNT(*)
     FROM jobs WHERE status = 'done' AND finished_at >= ? GROUP BY model_key, json_extract(usage, '$.estimated')`,
  );
  const times: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    fromJobs.all(now - YEAR_MS);
    times.push(performance.now() - t0);
  }
  const count = (table: string) => (store.db.query(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
  const buckets = (store.db.query("SELECT COUNT(*) AS n FROM usage_rollup WHERE dimension = 'client' AND span = 86400000").get() as { n: number }).n;
  const rows = count("usage_rollup");
  store.close();
  return { baseline: percentile(times.toSorted((a, b) => a - b), 50), rows, buckets };
})();

// the jobs are kept (no pruning running beside the measurement): the database at its largest
const foreman = await startTestForeman({ target: "http://127.0.0.1:9", db, retentionHours: 87_600 });
const results: { by: string; span: string; p50: number; p95: number; groups: number }[] = [];
for (const by of USAGE_DIMENSIONS) {
  for (const span of ["365d", "7d"]) {
    const times: number[] = [];
    let groups = 0;
    for (let i = 0; i < QUERIES; i++) {
      const t0 = performance.now();
      const res = await fetch(`${foreman.url}/usage?since=${span}&by=${by}`);
      groups = ((await res.json()) as { rows: unknown[] }).rows.length;
      times.push(performance.now() - t0);
    }
    const sorted = times.toSorted((a, b) => a - b);
    results.push({ by, span, p50: percentile(sorted, 50), p95: percentile(sorted, 95), groups });
  }
}
await foreman.stop();
dir.remove();

const worst = Math.max(...results.map((r) => r.p95));
await writeSection(
  "Usage",
  `\`bun bench/usage.ts\` — ${machine()}. A year of history from ${JOBS.toLocaleString("en")} finished jobs (${MODELS.length} models,
${ENDPOINTS.length} endpoints, 2 lanes, ${CLIENTS.length} clients, ${TAGS.length - 1} tags and none, finish times spread over 365 days), written
through the queue's own transitions: ${rows.toLocaleString("en")} rollup rows (bucket — hour, day, week — × dimension × value × exactness;
${buckets.toLocaleString("en")} daily rows by client alone). A span is read as its whole weeks, then whole days, then the hours at either end.
${QUERIES} sequential \`GET /usage\` per line, on loopback.

| by | since | groups | p50 | p95 |
|---|---|---|---|---|
${results.map((r) => `| ${r.by} | ${r.span} | ${r.groups} | ${fmt(r.p50, 2)} ms | ${fmt(r.p95, 2)} ms |`).join("\n")}

Target: under 50 ms — the slowest p95 is ${fmt(worst, 2)} ms. Baseline in the same run: the same sums by model read
from the jobs table (\`json_extract\` over ${JOBS.toLocaleString("en")} rows, no HTTP) take ${fmt(baseline, 1)} ms, and jobs
leave that table after \`FOREMAN_RETENTION_HOURS\` anyway.

Marking a job done, with its enqueue and start, in batches of 1,000 per commit: ${fmt(withoutMs * 1000, 1)} µs per job without
the rollup, ${fmt(withMs * 1000, 1)} µs with it (fifteen upserts — hour, day and week for five dimensions — in the same transaction, no commit of their own).`,
);
