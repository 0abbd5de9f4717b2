// Queueing a batch (ADR 0041): its lines are held out of the scheduler a chunk per transaction,
// then made runnable in one commit. foreman (a real child process) SIGKILLed between two chunks
// resumes on its own after a restart and queues every line exactly once; a cancel while lines
// are held drops them, so the batch ends cancelled with none queued.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { CHUNK_LINES } from "../../src/engine/batches.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { perTest, waitFor } from "../harness.ts";

const start = perTest();
// ten chunks: the queueing lasts long enough to be caught between two of them
const LINES = CHUNK_LINES * 10;
const line = (i: number) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/embeddings", body: { model: "nomic-embed-text", input: `text ${i}` } });

async function setUp() {
  const sim = await startSimulator({ models: [{ name: "nomic-embed-text", kind: "embed" }], tokenDelayMs: 1, loadMs: 5 });
  start.defer(() => sim.stop());
  const { db, spawn } = start.restartable(sim.url, ["--log-level", "info"]);
  const proc = await spawn();
  const body = new FormData();
  body.append("purpose", "batch");
  body.append("file", new Blob([`${Array.from({ length: LINES }, (_, i) => line(i)).join("\n")}\n`]), "input.jsonl");
  const file = (await (await fetch(`${proc.url}/v1/files`, { method: "POST", body })).json()) as { id: string };
  const stored = new Database(db, { readonly: true });
  start.defer(() => stored.close());
  return { proc, spawn, file, stored };
}

const create = async (url: string, fileId: string) => {
  const created = await fetch(`${url}/v1/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: fileId, endpoint: "/v1/embeddings", completion_window: "24h" }) });
  expect(created.status).toBe(200);
  return ((await created.json()) as { id: string }).id;
};

/** The batch's lines on the queue: how many, how many distinct custom_ids, how many held, how many ever taken. */
const linesIn = (stored: Database, id: string) =>
  stored
    .query<{ n: number; ids: number; held: number; taken: number }, [string]>(
      "SELECT count(*) AS n, count(DISTINCT custom_id) AS ids, count(not_before) AS held, count(started_at) AS taken FROM jobs WHERE batch_id = ?",
    )
    .get(id)!;

/** Waits until some of the batch's lines are held and not all: between two chunks. */
const midQueueing = (stored: Database, id: string) =>
  waitFor(
    () => {
      const l = linesIn(stored, id);
      return l.n > 0 && l.n < LINES && l;
    },
    { what: "a batch part-queued", timeoutMs: 30_000, intervalMs: 1 },
  );

test("SIGKILLed between two chunks of queueing, the batch resumes after a restart and queues every line exactly once", async () => {
  let { proc, spawn, file, stored } = await setUp();
  const id = await create(proc.url, file.id);
  const part = await midQueueing(stored, id);
  // held, none runnable: the worker took none, the batch counts none yet
  expect(part.held).toBe(part.n);
  expect(part.taken).toBe(0);
  await proc.kill("SIGKILL");
  expect(stored.query<{ total: number; status: string }, [string]>("SELECT total, status FROM batches WHERE id = ?").get(id)).toEqual({ total: 0, status: "validating" });
  proc = await spawn();
  // the restart finishes the queueing on its own: every line once, none held
  await waitFor(() => stored.query<{ total: number }, [string]>("SELECT total FROM batches WHERE id = ?").get(id)!.total === LINES, { what: "the batch queued after the restart", timeoutMs: 60_000, intervalMs: 10 });
  const all = linesIn(stored, id);
  expect(all.n).toBe(LINES);
  expect(all.ids).toBe(LINES);
  expect(all.held).toBe(0);
  // cancelled so the test does not run 20,000 lines: its files name each line exactly once
  expect((await fetch(`${proc.url}/v1/batches/${id}/cancel`, { method: "POST" })).status).toBe(200);
  const ended = await waitFor(
    async () => {
      const b = (await (await fetch(`${proc.url}/v1/batches/${id}`)).json()) as { status: string; output_file_id: string | null; error_file_id: string | null; request_counts: { total: number; completed: number; failed: number } };
      return b.status === "cancelled" && b;
    },
    { what: "the batch cancelled", timeoutMs: 60_000, intervalMs: 20 },
  );
  const linesOf = async (fileId: string | null) => (fileId ? (await (await fetch(`${proc.url}/v1/files/${fileId}/content`)).text()).trim().split("\n").map((l) => (JSON.parse(l) as { custom_id: string }).custom_id) : []);
  const seen = [...(await linesOf(ended.output_file_id)), ...(await linesOf(ended.error_file_id))];
  expect(seen.length).toBe(LINES);
  expect(new Set(seen).size).toBe(LINES);
  expect(ended.request_counts.total).toBe(LINES);
  expect(ended.request_counts.completed + ended.request_counts.failed).toBe(LINES);
}, 120_000);

test("a cancel while the lines are being queued drops the held ones: the batch ends cancelled with no line queued and no file", async () => {
  const { proc, file, stored } = await setUp();
  const id = await create(proc.url, file.id);
  const during = (await (await fetch(`${proc.url}/v1/batches/${id}`)).json()) as { status: string; request_counts: { total: number } };
  // while validating, request_counts count nothing: the lines are not queued until all are
  expect(during).toMatchObject({ status: "validating", request_counts: { total: 0 } });
  await midQueueing(stored, id);
  // held lines are queued jobs, listed with their batch, while the batch still counts none
  const held = (await (await fetch(`${proc.url}/jobs?batch=${id}`)).json()) as { jobs: { status: string; batch_id: string }[] };
  expect(held.jobs.length).toBeGreaterThan(0);
  expect(held.jobs.every((j) => j.status === "queued" && j.batch_id === id)).toBe(true);
  expect(((await (await fetch(`${proc.url}/v1/batches/${id}`)).json()) as { request_counts: { total: number } }).request_counts.total).toBe(0);
  const cancel = await fetch(`${proc.url}/v1/batches/${id}/cancel`, { method: "POST" });
  expect(cancel.status).toBe(200);
  const ended = await waitFor(
    async () => {
      const b = (await (await fetch(`${proc.url}/v1/batches/${id}`)).json()) as { status: string; output_file_id: string | null; error_file_id: string | null; request_counts: { total: number } };
      return b.status === "cancelled" && b;
    },
    { what: "the batch cancelled", timeoutMs: 30_000, intervalMs: 20 },
  );
  expect(ended).toMatchObject({ output_file_id: null, error_file_id: null, request_counts: { total: 0 } });
  // and the queueing stopped: nothing of the batch is left on the queue, then or later
  expect(linesIn(stored, id).n).toBe(0);
  const lines = (await (await fetch(`${proc.url}/jobs?batch=${id}`)).json()) as { jobs: unknown[] };
  expect(lines.jobs).toEqual([]);
}, 60_000);
