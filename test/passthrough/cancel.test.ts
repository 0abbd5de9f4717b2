// A passthrough request's record canceled through POST /jobs/{id}/cancel: its HTTP caller is
// answered, never left waiting (ADR 0043). Waiting in the queue or loading, it gets Ollama's 499
// in its dialect; a reply already streaming ends as a broken one does (the {"error"} line on
// NDJSON, a cut connection on SSE).
import { afterEach, describe, expect, test } from "bun:test";
import type { Job } from "../../clients/ts/index.ts";
import { startStack, waitFor, type Stack } from "../harness.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const chat = (model: string, stream: boolean) => JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream });
const post = (path: string, body: string, signal?: AbortSignal) => fetch(`${stack!.url}${path}`, { method: "POST", body, signal });

/** The passthrough record for `model` in `status`, found as a user would: GET /jobs?lane=interactive. */
async function record(s: Stack, model: string, status: string): Promise<Job> {
  return waitFor(
    async () => {
      const page = (await (await fetch(`${s.url}/jobs?lane=interactive&status=${status}&model=${model}`)).json()) as { jobs: Job[] };
      return page.jobs[0];
    },
    { what: `a ${status} passthrough record for ${model}` },
  );
}

const cancel = (s: Stack, id: string) => fetch(`${s.url}/jobs/${id}/cancel`, { method: "POST" });

async function withBlocker(): Promise<{ s: Stack; release: () => Promise<void> }> {
  // a 60 s load holds the worker, so the next request waits in the queue behind it
  const s = (stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, models: [{ name: "slow", loadMs: 60_000 }, { name: "llama3.2" }] } }));
  const blocker = new AbortController();
  const first = post("/api/chat", chat("slow", false), blocker.signal).catch(() => null);
  await record(s, "slow", "loading");
  return {
    s,
    release: async () => {
      blocker.abort();
      await first;
    },
  };
}

describe("a passthrough record canceled by POST /jobs/{id}/cancel", () => {
  test("while it waits in the queue: the caller gets Ollama's 499 with the reason, and the record stays canceled", async () => {
    const { s, release } = await withBlocker();
    const waiting = post("/api/chat", chat("llama3.2", false));
    const job = await record(s, "llama3.2", "queued");
    const res = await cancel(s, job.id);
    expect(res.status).toBe(200);
    const answer = await waiting;
    expect([answer.status, await answer.json()]).toEqual([499, { error: "canceled by request" }]);
    expect(((await (await fetch(`${s.url}/jobs/${job.id}`)).json()) as Job).status).toBe("canceled");
    await release();
  }, 20_000);

  test("while it waits in the queue, on /v1: the same 499 in OpenAI's envelope", async () => {
    const { s, release } = await withBlocker();
    const waiting = post("/v1/chat/completions", chat("llama3.2", true));
    const job = await record(s, "llama3.2", "queued");
    expect((await cancel(s, job.id)).status).toBe(200);
    const answer = await waiting;
    expect(answer.status).toBe(499);
    const body = (await answer.json()) as { error: { message: string } };
    expect(body.error.message).toContain("canceled by request");
    await release();
  }, 20_000);

  test("while its model loads (the target has not answered): 499 with the reason", async () => {
    const s = (stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, models: [{ name: "slow", loadMs: 60_000 }] } }));
    const waiting = post("/api/chat", chat("slow", true));
    const job = await record(s, "slow", "loading");
    expect((await cancel(s, job.id)).status).toBe(200);
    const answer = await waiting;
    expect([answer.status, await answer.json()]).toEqual([499, { error: "canceled by request" }]);
  }, 20_000);

  test("while its reply streams: the stream ends with Ollama's {error} line, as a broken stream does", async () => {
    const s = (stack = await startStack({ sim: { tokenDelayMs: 5, loadMs: 0, faults: { endless: true } } }));
    const res = await post("/api/chat", chat("llama3.2", true));
    expect(res.status).toBe(200);
    // read as a client does, all along: the reply is pulled while the cancel goes through
    const text = res.text();
    const job = await record(s, "llama3.2", "working");
    expect((await cancel(s, job.id)).status).toBe(200);
    const lines = (await text).trim().split("\n");
    expect(lines.length).toBeGreaterThan(1);
    expect(JSON.parse(lines.at(-1)!)).toEqual({ error: "canceled by request" });
    expect(lines.slice(0, -1).every((l) => (JSON.parse(l) as { done: boolean }).done === false)).toBe(true);
    expect(((await (await fetch(`${s.url}/jobs/${job.id}`)).json()) as Job).status).toBe("canceled");
  }, 20_000);

  test("while its /v1 reply streams (SSE): the connection is cut before the [DONE] chunk, so the client's read fails", async () => {
    const s = (stack = await startStack({ sim: { tokenDelayMs: 5, loadMs: 0, faults: { endless: true } } }));
    const res = await post("/v1/chat/completions", chat("llama3.2", true));
    expect(res.status).toBe(200);
    let seen = "";
    const reader = res.body!.getReader();
    const read = (async () => {
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) seen += new TextDecoder().decode(chunk.value);
    })().then(
      () => "ended",
      () => "broken",
    );
    const job = await record(s, "llama3.2", "working");
    expect((await cancel(s, job.id)).status).toBe(200);
    expect(await read).toBe("broken");
    expect(seen).toContain("data: ");
    expect(seen).not.toContain("[DONE]");
    expect(((await (await fetch(`${s.url}/jobs/${job.id}`)).json()) as Job).status).toBe("canceled");
  }, 20_000);
});
