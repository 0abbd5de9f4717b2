// Finalizing on a full disk (issue 19, ADR 0041), on a real full filesystem: foreman's batch
// files (files/ beside the database) live on a small tmpfs, filled with a ballast file once the
// input is uploaded. The batch runs, then cannot write its results: it stays `finalizing` (seen
// over HTTP), says why in its log, lists no output file and leaves no partial one on disk; once
// the ballast is deleted it completes on its own, its files whole and parseable, their line
// counts equal to request_counts. The tmpfs is mounted directly when the test may (root), else in
// a user and mount namespace around foreman (unshare -rm); only when neither works is the test
// skipped, saying why. The database's side: SQLITE_FULL on the commit that records the files.
import { expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/ops/log.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { perTest, spawnForeman, tempDir, waitFor } from "../harness.ts";
import { storageFaults } from "../store/faults.ts";
import { mountTmpfs, tmpfsSupport } from "../store/tmpfs.ts";

const start = perTest();
const LINES = 100;
const TMPFS = "256k";

const mode = tmpfsSupport();
if (mode.how === "none") console.log(`batch-disk-full: skipped: cannot mount a tmpfs (${mode.why})`);

/** Fills the filesystem of `path`'s directory with `path`, a page at a time, until a write fails with ENOSPC. */
function fill(path: string): number {
  const fd = openSync(path, "w");
  const page = Buffer.alloc(4096, 0x62);
  let bytes = 0;
  try {
    for (;;) bytes += writeSync(fd, page);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
  } finally {
    closeSync(fd);
  }
  return bytes;
}

interface Batch {
  status: string;
  output_file_id: string | null;
  error_file_id: string | null;
  request_counts: { total: number; completed: number; failed: number };
}

test.skipIf(mode.how === "none")("a full disk while finalizing: the batch stays finalizing with no file, and completes whole once space returns", async () => {
  const sim = await startSimulator({ models: [{ name: "llama3.2" }], tokenDelayMs: 1, loadMs: 5 });
  start.defer(() => sim.stop());
  const dir = tempDir();
  const files = join(dir.path, "files");
  mkdirSync(files);
  const db = join(dir.path, "foreman.db");
  let wrap: string[] = [];
  start.defer(() => dir.remove());
  if (mode.how === "here") mountTmpfs(files, TMPFS, start.defer);
  else wrap = ["unshare", "-rm", "sh", "-c", `mount -t tmpfs -o size=${TMPFS} tmpfs "$0" && exec "$@"`, files];
  const proc = await spawnForeman({ target: sim.url, db, args: ["--log-level", "info"], wrap });
  start.defer(() => proc.kill("SIGKILL"));
  // foreman's view of its files directory: the namespace's tmpfs, seen through its root
  const seen = wrap.length === 0 ? files : `/proc/${proc.proc.pid}/root${files}`;

  const text = `${Array.from({ length: LINES }, (_, i) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: `say ${i}` }] } })).join("\n")}\n`;
  const body = new FormData();
  body.append("purpose", "batch");
  body.append("file", new Blob([text]), "input.jsonl");
  const upload = await fetch(`${proc.url}/v1/files`, { method: "POST", body });
  expect(upload.status).toBe(200);
  const input = ((await upload.json()) as { id: string }).id;
  const ballast = join(seen, "ballast");
  expect(fill(ballast)).toBeGreaterThan(0);

  const created = await fetch(`${proc.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: input, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  const retrieve = async () => (await (await fetch(`${proc.url}/v1/batches/${id}`)).json()) as Batch;
  // every line runs; the result files cannot be written, again and again, and the log says why
  const failures = () => proc.log.join("").split("\n").filter((l) => l.includes('"batch finalizing failed; trying again"'));
  await waitFor(() => failures().length >= 2, { what: "two failed finalizings in the log", timeoutMs: 60_000, intervalMs: 50 });
  expect(failures()[0]).toMatch(/ENOSPC|no space left/i);
  const stuck = await retrieve();
  expect(stuck.status).toBe("finalizing");
  expect(stuck.output_file_id).toBeNull();
  expect(stuck.request_counts).toEqual({ total: LINES, completed: LINES, failed: 0 });
  const listed = () => fetch(`${proc.url}/v1/files`).then(async (r) => ((await r.json()) as { data: { id: string }[] }).data.map((f) => f.id));
  expect(await listed()).toEqual([input]);
  // nothing half-written left behind: the input and the ballast only
  expect(readdirSync(seen).toSorted()).toEqual(["ballast", input].toSorted());

  rmSync(ballast);
  const ended = await waitFor(
    async () => {
      const b = await retrieve();
      return b.status !== "finalizing" && b;
    },
    { what: "the batch to end once space returned", timeoutMs: 30_000, intervalMs: 50 },
  );
  expect(ended.status).toBe("completed");
  expect(ended.error_file_id).toBeNull();
  const output = await (await fetch(`${proc.url}/v1/files/${ended.output_file_id}/content`)).text();
  expect(output.endsWith("\n")).toBe(true);
  const results = output
    .slice(0, -1)
    .split("\n")
    .map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number } });
  expect(results.length).toBe(ended.request_counts.completed);
  expect(results.map((r) => r.custom_id).toSorted()).toEqual(Array.from({ length: LINES }, (_, i) => `line-${i}`).toSorted());
  expect(results.every((r) => r.response.status_code === 200)).toBe(true);
  expect((await listed()).toSorted()).toEqual([input, ended.output_file_id!].toSorted());
  expect(readdirSync(seen).toSorted()).toEqual([input, ended.output_file_id!].toSorted());
}, 120_000);

test("the database full as the batch's end is recorded: the written result files go, the batch stays finalizing, and ends whole once the write succeeds", async () => {
  const lines: string[] = [];
  const stack = await start.stack({ sim: { models: [{ name: "llama3.2" }] }, start: { log: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }) } });
  const faults = storageFaults(stack.foreman.services.store.db);
  faults.fail({ batch: "completed" });
  const text = `${Array.from({ length: 20 }, (_, i) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: `say ${i}` }] } })).join("\n")}\n`;
  const body = new FormData();
  body.append("purpose", "batch");
  body.append("file", new Blob([text]), "input.jsonl");
  const input = ((await (await fetch(`${stack.url}/v1/files`, { method: "POST", body })).json()) as { id: string }).id;
  const created = await fetch(`${stack.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: input, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
  const { id } = (await created.json()) as { id: string };
  const failures = () => lines.filter((l) => l.includes('"batch finalizing failed; trying again"'));
  await waitFor(() => failures().length >= 1, { what: "a failed finalizing in the log", timeoutMs: 30_000, intervalMs: 20 });
  expect(failures()[0]).toMatch(/full/i);
  const stuck = (await (await fetch(`${stack.url}/v1/batches/${id}`)).json()) as Batch;
  expect(stuck).toMatchObject({ status: "finalizing", output_file_id: null });
  // the files written before the refused commit are not left on disk
  expect(readdirSync(stack.foreman.services.files.dir)).toEqual([input]);
  faults.clear();
  const ended = await waitFor(
    async () => {
      const b = (await (await fetch(`${stack.url}/v1/batches/${id}`)).json()) as Batch;
      return b.status !== "finalizing" && b;
    },
    { what: "the batch to end once the database takes the write", timeoutMs: 30_000, intervalMs: 50 },
  );
  expect(ended.status).toBe("completed");
  const output = (await (await fetch(`${stack.url}/v1/files/${ended.output_file_id}/content`)).text()).trim().split("\n");
  expect(output.map((l) => (JSON.parse(l) as { custom_id: string }).custom_id).toSorted()).toEqual(Array.from({ length: 20 }, (_, i) => `line-${i}`).toSorted());
  expect(readdirSync(stack.foreman.services.files.dir).toSorted()).toEqual([input, ended.output_file_id!].toSorted());
}, 60_000);
