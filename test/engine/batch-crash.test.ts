// The batch durability proof of issue 19: foreman (a real child process) is SIGKILLed at
// seeded-random moments while a 2,000-line batch is validated and queued, run and finalized,
// and started again on the same database each time. The batch must end `completed` on its own,
// every line exactly once across the output and error files, the files parseable line by line,
// and `request_counts` equal to the files' line counts. Replay a run with FOREMAN_TEST_SEED.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { startSimulator } from "../../src/sim/index.ts";
import { perTest, seededRandom, waitFor, type ForemanProcess } from "../harness.ts";

const start = perTest();
const LINES = 2_000;
const KILLS = 12;
const ENDED = ["completed", "failed", "expired", "cancelled"];

interface Batch {
  status: string;
  output_file_id: string | null;
  error_file_id: string | null;
  request_counts: { total: number; completed: number; failed: number };
}

/** Line i asks for an embedding; every 100th names a model the target lacks, so it ends in the error file. */
const line = (i: number) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/embeddings", body: { model: i % 100 === 99 ? "no-such-model" : "nomic-embed-text", input: `text ${i}` } });

test("SIGKILLed at least 10 times during validation, the run and finalizing, a 2,000-line batch still completes with every line exactly once", async () => {
  const random = seededRandom("batch crash");
  const sim = await startSimulator({ models: [{ name: "nomic-embed-text", kind: "embed" }], tokenDelayMs: 1, loadMs: 5 });
  start.defer(() => sim.stop());
  const { db, spawn } = start.restartable(sim.url, ["--log-level", "info"]);
  let proc: ForemanProcess = await spawn();
  const ids = Array.from({ length: LINES }, (_, i) => `line-${i}`);
  const body = new FormData();
  body.append("purpose", "batch");
  body.append("file", new Blob([`${ids.map((_, i) => line(i)).join("\n")}\n`]), "input.jsonl");
  const file = (await (await fetch(`${proc.url}/v1/files`, { method: "POST", body })).json()) as { id: string };
  const created = await fetch(`${proc.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "24h" }) });
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  const retrieve = async () => (await (await fetch(`${proc.url}/v1/batches/${id}`)).json()) as Batch;
  const phases: string[] = [];
  const restart = async (phase: string) => {
    await proc.kill("SIGKILL");
    phases.push(phase);
    proc = await spawn();
  };

  // validation and queueing: two kills within the first moments after the batch is created
  for (let k = 0; k < 2; k++) {
    await Bun.sleep(Math.floor(random() * 40));
    await restart(`early:${(await retrieve()).status}`);
  }
  // the run: kills once the lines done pass seeded-random, rising marks
  const marks = Array.from({ length: KILLS - 4 }, () => random()).sort((a, b) => a - b);
  for (const mark of marks) {
    const goal = Math.floor(mark * LINES * 0.95);
    await waitFor(
      async () => {
        const b = await retrieve();
        return (ENDED.includes(b.status) || b.status === "finalizing" || b.request_counts.completed + b.request_counts.failed >= goal) && b;
      },
      { what: `${goal} lines done`, timeoutMs: 60_000, intervalMs: 5 },
    );
    await Bun.sleep(Math.floor(random() * 20));
    const r = await retrieve();
    await restart(`run:${r.status}:${r.request_counts.completed + r.request_counts.failed}`);
  }
  // finalizing: a 2,000-line batch's result files are one page (ADR 0041), written within a
  // moment, so watch the batch's row in the database and kill once it reads `finalizing`; then
  // kill again within moments of the restart, which finalizes on its own
  const stored = new Database(db, { readonly: true });
  start.defer(() => stored.close());
  const row = stored.query<{ status: string }, [string]>("SELECT status FROM batches WHERE id = ?");
  await waitFor(() => ["finalizing", ...ENDED].includes(row.get(id)!.status), { what: "the batch finalizing", timeoutMs: 60_000, intervalMs: 1 });
  await Bun.sleep(Math.floor(random() * 3));
  await restart(`end:${row.get(id)!.status}`);
  await Bun.sleep(Math.floor(random() * 15));
  await restart(`restarted:${row.get(id)!.status}`);
  expect(phases.length).toBeGreaterThanOrEqual(10);
  console.log(`batch crash: killed in ${phases.join(", ")}`);

  // after the last restart the batch ends by itself
  const ended = await waitFor(
    async () => {
      const b = await retrieve();
      return ENDED.includes(b.status) && b;
    },
    { what: "the batch to end after the last restart", timeoutMs: 60_000, intervalMs: 20 },
  );
  expect(ended.status).toBe("completed");
  const linesOf = async (fileId: string | null) => {
    if (!fileId) return [];
    const text = await (await fetch(`${proc.url}/v1/files/${fileId}/content`)).text();
    expect(text.endsWith("\n")).toBe(true);
    return text
      .slice(0, -1)
      .split("\n")
      .map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number } | null });
  };
  const output = await linesOf(ended.output_file_id);
  const errors = await linesOf(ended.error_file_id);
  const seen = [...output, ...errors].map((l) => l.custom_id);
  // no line twice, none lost
  expect(new Set(seen).size).toBe(seen.length);
  expect(seen.toSorted()).toEqual(ids.toSorted());
  expect(errors.map((l) => l.custom_id).toSorted()).toEqual(ids.filter((_, i) => i % 100 === 99).toSorted());
  expect(output.every((l) => l.response?.status_code === 200)).toBe(true);
  expect(ended.request_counts).toEqual({ total: LINES, completed: output.length, failed: errors.length });
  // the files foreman lists are the input and the two results, and nothing else is on disk
  const listed = ((await (await fetch(`${proc.url}/v1/files`)).json()) as { data: { id: string }[] }).data.map((f) => f.id);
  const kept = [file.id, ended.output_file_id!, ended.error_file_id!].toSorted();
  expect(listed.toSorted()).toEqual(kept);
  await proc.kill("SIGTERM");
  expect(readdirSync(join(dirname(db), "files")).toSorted()).toEqual(kept);
}, 120_000);
