// GET /jobs?batch=ID (issue 19): the lines of an OpenAI batch as jobs, each carrying `batch_id`
// and `custom_id` in its view; a job submitted on its own carries null in both; an unknown
// batch is a 404 naming the query field; the filter pages and combines with status.
import { describe, expect, test } from "bun:test";
import { ForemanClient, type Batch } from "foreman/client";
import { sharedStack, waitFor } from "../../harness.ts";

const line = (id: string, model = "llama3.2") => ({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: `say ${id}` }] } });

describe("GET /jobs?batch=", () => {
  const stack = sharedStack();
  const client = () => new ForemanClient({ baseUrl: stack.url });
  const ended = (id: string) => waitFor(async () => ((await client().batch(id)).status === "completed" ? client().batch(id) : false), { what: `batch ${id} to complete`, timeoutMs: 20_000, intervalMs: 20 });

  test("lists only the batch's lines, each with batch_id and custom_id; a plain job has null in both", async () => {
    const other = await client().submitBatch([line("x")]);
    const batch: Batch = await client().submitBatch([line("a"), line("b"), line("c", "no-such-model")]);
    const plain = await client().submit({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } });
    expect(plain.batch_id).toBeNull();
    expect(plain.custom_id).toBeNull();
    await ended(batch.id);
    await ended(other.id);
    const { jobs, next_cursor } = await client().list({ batch: batch.id });
    expect(next_cursor).toBeNull();
    expect(jobs.map((j) => j.custom_id).sort()).toEqual(["a", "b", "c"]);
    for (const j of jobs) expect(j.batch_id).toBe(batch.id);
    expect((await client().get(jobs[0]!.id)).custom_id).toBe(jobs[0]!.custom_id);
    // with status: the failing line alone
    const failed = await client().list({ batch: batch.id, status: "failed" });
    expect(failed.jobs.map((j) => j.custom_id)).toEqual(["c"]);
    // pages of one walk all three, newest first, no line twice
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client().list({ batch: batch.id, limit: 1, ...(cursor ? { cursor } : {}) });
      seen.push(...page.jobs.map((j) => j.custom_id!));
      cursor = page.next_cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(["c", "b", "a"]);
  });

  test("an unknown batch is a 404 naming the field; an empty one is a 400", async () => {
    const res = await fetch(`${stack.url}/jobs?batch=batch_nope`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { message: string; field?: string } };
    expect(body.error.message).toContain("query batch");
    expect((await fetch(`${stack.url}/jobs?batch=`)).status).toBe(400);
  });
});
