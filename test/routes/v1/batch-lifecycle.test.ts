// A batch's status follows its work (issue 19): `validating` until the worker takes its first line
// — also when validation has long queued the lines and other work holds the target — then
// `in_progress` from that moment, judged with the real openai package.
import { describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { ForemanClient } from "../../../clients/ts/index.ts";
import { Database } from "bun:sqlite";
import { startForeman } from "../../../src/server.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import { perTest, sharedStack, tempDir, testConfig, waitFor } from "../../harness.ts";

const chatLine = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: id }] } });

describe("batch status", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 2, faults: { endless: true } } });

  test("queued lines behind other work leave the batch validating; in_progress_at is when the first line is taken", async () => {
    const jobs = new ForemanClient({ baseUrl: stack.url });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    // a plain job that holds the target until it is cancelled (the model loops)
    const holder = await jobs.submit({ request: { model: "llama3.2", prompt: "loop" }, endpoint: "/api/generate" });
    await waitFor(async () => (await jobs.get(holder.id)).status === "working", { what: "the holder to run" });

    const file = await openai.files.create({ file: await toFile(Buffer.from(`${chatLine("a")}\n${chatLine("b")}\n`), "in.jsonl"), purpose: "batch" });
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    // validated and queued (the total is known), but no line taken: still validating
    const queued = await waitFor(async () => {
      const b = await openai.batches.retrieve(created.id);
      return b.request_counts?.total === 2 && b;
    }, { what: "the lines queued" });
    expect(queued.status).toBe("validating");
    expect(queued.in_progress_at).toBeNull();
    // none of its lines has ended, so none has failed: a client waiting for completed + failed
    // to reach the total must not think the batch over before it has started
    expect(queued.request_counts).toEqual({ total: 2, completed: 0, failed: 0 });
    expect((await jobs.get(holder.id)).status).toBe("working");

    await stack.sim.setFaults({ endless: false });
    const releasedAt = Math.floor(Date.now() / 1000);
    await jobs.cancel(holder.id);
    const running = await waitFor(async () => {
      const b = await openai.batches.retrieve(created.id);
      return b.status !== "validating" && b;
    }, { what: "the batch to leave validating" });
    expect(["in_progress", "finalizing", "completed"]).toContain(running.status);
    const ended = await waitFor(async () => {
      const b = await openai.batches.retrieve(created.id);
      return b.status === "completed" && b;
    }, { what: "the batch to complete", timeoutMs: 20_000 });
    expect(ended.in_progress_at).toBeGreaterThanOrEqual(releasedAt);
    expect(ended.in_progress_at).toBeLessThanOrEqual(ended.completed_at!);
    expect(ended.request_counts).toEqual({ total: 2, completed: 2, failed: 0 });
  });

  const start = perTest();

  test("a restart while the queued batch is still validating does not validate it again: each line once", async () => {
    const sim = await startSimulator({ tokenDelayMs: 2, loadMs: 1, faults: { endless: true } });
    start.defer(() => sim.stop());
    const dir = tempDir();
    start.defer(() => dir.remove());
    const config = testConfig({ target: sim.url }, dir.path);
    let foreman = await startForeman(config);
    let jobs = new ForemanClient({ baseUrl: foreman.url });
    let openai = new OpenAI({ baseURL: `${foreman.url}/v1`, apiKey: "none" });
    const holder = await jobs.submit({ request: { model: "llama3.2", prompt: "loop" }, endpoint: "/api/generate" });
    await waitFor(async () => (await jobs.get(holder.id)).status === "working", { what: "the holder to run" });
    const file = await openai.files.create({ file: await toFile(Buffer.from(`${chatLine("a")}\n${chatLine("b")}\n${chatLine("c")}\n`), "in.jsonl"), purpose: "batch" });
    const created = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const queued = await waitFor(async () => {
      const b = await openai.batches.retrieve(created.id);
      return b.request_counts?.total === 3 && b;
    }, { what: "the lines queued" });
    expect(queued.status).toBe("validating");
    // stopped while the holder still runs: no line was taken
    await sim.setFaults({ endless: false });
    await foreman.stop();

    foreman = await startForeman(config);
    start.defer(() => foreman.stop());
    jobs = new ForemanClient({ baseUrl: foreman.url });
    openai = new OpenAI({ baseURL: `${foreman.url}/v1`, apiKey: "none" });
    const ended = await waitFor(async () => {
      const b = await openai.batches.retrieve(created.id);
      return b.status === "completed" && b;
    }, { what: "the batch to complete", timeoutMs: 20_000 });
    expect(ended.request_counts).toEqual({ total: 3, completed: 3, failed: 0 });
    expect(ended.in_progress_at).toBeNumber();
    const db = new Database(config.db, { readonly: true });
    const lines = db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs WHERE batch_id = ?").get(created.id)!.n;
    db.close();
    expect(lines).toBe(3);
  });
});
