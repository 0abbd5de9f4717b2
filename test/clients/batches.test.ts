// The TypeScript client's batches (issue 19): a batch from lines in memory and from a file's
// Blob, followed with progress until it ends, its results joined to their custom_id (a failing
// line included); a wait that runs out is a BatchTimeoutError and leaves the batch running.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BatchTimeoutError, ForemanClient, type Batch, type BatchResult } from "foreman/client";
import { sharedStack, tempDir } from "../harness.ts";

const line = (id: string, model = "llama3.2") => ({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: `say ${id}` }] } });

describe("ForemanClient batches", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 2 }, foreman: { token: "s3cret" } });
  const client = () => new ForemanClient({ baseUrl: stack.url, token: "s3cret" });

  test("from lines in memory: waitBatch reports progress to the end, batchResults joins each line to its custom_id", async () => {
    const batch = await client().submitBatch([line("a"), line("b"), line("bad", "no-such-model")], { metadata: { run: "mem" } });
    expect(batch).toMatchObject({ object: "batch", endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { run: "mem" } });
    const seen: Batch[] = [];
    const ended = await client().waitBatch(batch.id, { interval: 20, onProgress: (b) => seen.push(b) });
    expect(ended.status).toBe("completed");
    expect(ended.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(seen.at(-1)).toEqual(ended);
    const results = new Map<string, BatchResult>();
    for await (const r of client().batchResults(ended)) results.set(r.custom_id, r);
    expect([...results.keys()].sort()).toEqual(["a", "b", "bad"]);
    expect(results.get("a")).toMatchObject({ ok: true, status_code: 200, error: null });
    expect((results.get("a")!.body as { choices: { message: { content: string } }[] }).choices[0]!.message.content.length).toBeGreaterThan(0);
    expect(results.get("bad")).toMatchObject({ ok: false, status_code: 404 });
    // the lines as jobs, by the same ids
    const jobs = (await client().list({ batch: batch.id })).jobs;
    expect(jobs.map((j) => j.custom_id).sort()).toEqual(["a", "b", "bad"]);
  });

  test("from a file's Blob (embeddings), with a window; listed by batches()", async () => {
    const dir = tempDir("batch-file-");
    const path = join(dir.path, "emb.jsonl");
    writeFileSync(path, ["x", "y"].map((id) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/embeddings", body: { model: "llama3.2", input: `text ${id}` } })).join("\n") + "\n");
    const batch = await client().submitBatch(Bun.file(path), { endpoint: "/v1/embeddings", completionWindow: "2h", filename: "emb.jsonl" });
    const ended = await client().waitBatch(batch.id, { interval: 20 });
    expect(ended.status).toBe("completed");
    const ids: string[] = [];
    for await (const r of client().batchResults(ended)) {
      expect(r.ok).toBe(true);
      ids.push(r.custom_id);
    }
    expect(ids.sort()).toEqual(["x", "y"]);
    expect((await client().batches({ limit: 100 })).data.map((b) => b.id)).toContain(batch.id);
    dir.remove();
  });

  test("a wait that runs out is a BatchTimeoutError; the batch goes on and can be cancelled", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 200 }); // the lines outlast the cancel
    const batch = await client().submitBatch(Array.from({ length: 40 }, (_, i) => line(`l${i}`)));
    const err = await client().waitBatch(batch.id, { timeout: 0 }).catch((e) => e);
    expect(err).toBeInstanceOf(BatchTimeoutError);
    expect(err.batchId).toBe(batch.id);
    const cancelled = await client().cancelBatch(batch.id);
    expect(["cancelling", "cancelled"]).toContain(cancelled.status);
    const ended = await client().waitBatch(batch.id, { interval: 20, timeout: 20_000 });
    expect(ended.status).toBe("cancelled");
    await stack.sim.setFaults({ firstByteDelayMs: 0 });
  });
});
