// Counting a batch's lines (ADR 0044): GET /v1/batches/{id} and /status count them on every
// call, so the counts come from an index alone — no job row (its request, its reply) is read —
// and a client polling a batch does not take the event loop from the worker. The plans are
// SQLite's own (EXPLAIN QUERY PLAN) on a real store; the counts are checked against the lines.
import { afterEach, beforeEach, expect, test } from "bun:test";
import { BATCH_LINES_SQL, Batches, OPEN_BATCH_LINES_SQL, UNFINISHED_LINE_SQL } from "../../src/queue/batches.ts";
import { ASYNC } from "../../src/queue/queue.ts";
import { testQueue, type TestQueue } from "../harness.ts";

let t: TestQueue;
beforeEach(() => (t = testQueue()));
afterEach(() => t.remove());

/** How SQLite reads the jobs table for a query: the plan's lines that name it. */
const jobsPlan = (sql: string, ...params: string[]) =>
  t.store.db
    .query<{ detail: string }, string[]>(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((r) => r.detail)
    .filter((d) => / jobs\b| j\b/.test(d));

test("a batch's lines, and those of the batches not ended, are counted from an index alone", () => {
  for (const plan of [jobsPlan(BATCH_LINES_SQL, "batch_x"), jobsPlan(OPEN_BATCH_LINES_SQL)]) {
    expect(plan.length).toBeGreaterThan(0);
    for (const step of plan) expect(step).toContain("USING COVERING INDEX");
  }
});

test("the counts follow the lines' states", () => {
  const batches = new Batches(t.store.db);
  const b = t.queue.atomically(() => batches.create({ endpoint: "/v1/embeddings", inputFileId: "file_x", completionWindow: "24h", windowMs: 86_400_000, metadata: null }));
  const ids = ["a", "b", "c"].map((customId) => {
    const job = t.queue.enqueue({ lane: ASYNC, endpoint: "/v1/embeddings", model: "m", request: "{}" });
    batches.attach(job.id, b.id, customId);
    return job.id;
  });
  t.queue.cancel(ids[0]!, "test");
  expect(batches.counts(b.id)).toEqual({ total: 3, done: 0, failed: 0, canceled: 1, unfinished: 2 });
  expect(batches.summary().lines).toEqual({ queued: 2, canceled: 1 });
});

test("whether a line is still to end is a seek per unfinished state, not a count of the batch's lines", () => {
  const plan = jobsPlan(UNFINISHED_LINE_SQL, "batch_x");
  expect(plan.length).toBeGreaterThan(0);
  for (const step of plan) expect(step).toMatch(/^SEARCH .*USING COVERING INDEX jobs_batch_status \(batch_id=\? AND status=\?\)/);
  const batches = new Batches(t.store.db);
  const b = t.queue.atomically(() => batches.create({ endpoint: "/v1/embeddings", inputFileId: "file_x", completionWindow: "24h", windowMs: 86_400_000, metadata: null }));
  const ids = ["a", "b"].map((customId) => {
    const job = t.queue.enqueue({ lane: ASYNC, endpoint: "/v1/embeddings", model: "m", request: "{}" });
    batches.attach(job.id, b.id, customId);
    return job.id;
  });
  expect(batches.hasUnfinished(b.id)).toBe(true);
  t.queue.cancel(ids[0]!, "test");
  expect(batches.hasUnfinished(b.id)).toBe(true);
  t.queue.cancel(ids[1]!, "test");
  expect(batches.hasUnfinished(b.id)).toBe(false);
});
