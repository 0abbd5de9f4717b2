// What must not wait behind inference (ADR 0019): an unload (keep_alive 0 with nothing to do)
// only frees the target and goes straight there, even while a long stream holds the worker;
// an unknown model gets Ollama's 404 at once; the load idiom is real work and stays queued.
import { describe, expect, test } from "bun:test";
import { Ollama, type GenerateRequest } from "ollama";
import { perTest, waitFor, type Stack, workerBusy } from "../harness.ts";

const start = perTest();

/** A stream that runs until aborted: the worker is busy with it the whole time. */
async function longStream(stack: Stack, model = "llama3.2"): Promise<{ abort(): Promise<void> }> {
  const abort = new AbortController();
  const res = await fetch(`${stack.url}/api/chat`, {
    method: "POST",
    body: JSON.stringify({ model, messages: [{ role: "user", content: "go on" }], options: { num_predict: 1_000_000 } }),
    signal: abort.signal,
  });
  const reader = res.body!.getReader();
  await reader.read();
  await waitFor(() => workerBusy(stack.foreman), { what: "the worker to run the long stream" });
  return {
    abort: async () => {
      abort.abort();
      await reader.cancel().catch(() => {});
      await waitFor(() => !workerBusy(stack.foreman), { what: "the worker to let go of the aborted stream" });
    },
  };
}

/** An answer that must come while the worker is busy, or the test fails (without waiting forever) saying it queued. */
async function whileBusy<T>(stack: Stack, answer: Promise<T>): Promise<T> {
  const queued = waitFor(() => stack.foreman.services.queue.waitingInteractive() > 0 && "queued", { what: "nothing (a request queued instead)", timeoutMs: 60_000 });
  const first = await Promise.race([answer.then((value) => ({ value })), queued.then(() => null)]);
  if (first === null) throw new Error("the request waited in the queue behind the running stream");
  expect(workerBusy(stack.foreman)).toBe(true);
  return first.value;
}

describe("unload", () => {
  test("ollama.generate({model, keep_alive: 0}) is answered while a long stream of the same model runs, and the model leaves once the stream ends", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 5 } });
    const via = new Ollama({ host: stack.url });
    const stream = await longStream(stack);
    const generates = stack.sim.counters.requests["POST /api/generate"] ?? 0;
    const reply = await whileBusy(stack, via.generate({ model: "llama3.2", keep_alive: 0 } as GenerateRequest & { stream: false }));
    expect(reply).toMatchObject({ model: "llama3.2", response: "", done: true, done_reason: "unload" });
    // the target saw it (as Ollama does, the busy runner leaves when its request finishes)
    expect(stack.sim.counters.requests["POST /api/generate"]).toBe(generates + 1);
    expect(stack.sim.resident()).toContain("llama3.2:latest");
    await stream.abort();
    await waitFor(() => !stack.sim.resident().includes("llama3.2:latest"), { what: "the target to unload llama3.2" });
    // no job row: it was never queued
    expect(stack.foreman.services.store.db.query("SELECT endpoint FROM jobs").all()).toEqual([{ endpoint: "/api/chat" }]);
  });

  test("what `ollama stop` sends (no stream field, keep_alive 0), a chat unload and a \"0s\" string: each answered at once, byte-for-byte the target's", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 5 } });
    const stream = await longStream(stack, "mistral");
    const TIME = /"created_at":"[^"]*"/;
    for (const [path, body] of [
      ["/api/generate", { model: "llama3.2", keep_alive: 0 }],
      ["/api/chat", { model: "qwen2.5:0.5b", messages: [], keep_alive: 0 }],
      ["/api/chat", { model: "qwen2.5:0.5b", keep_alive: "0s" }],
      ["/api/generate", { model: "llama3.2", prompt: "", keep_alive: "0" }],
    ] as const) {
      const init = { method: "POST", body: JSON.stringify(body), headers: { accept: "application/x-ndjson", "user-agent": "ollama/0.33.0 (amd64 linux) Go/go1.24.0" } };
      const via = await whileBusy(stack, fetch(`${stack.url}${path}`, init));
      const direct = await fetch(`${stack.sim.url}${path}`, init);
      expect(via.status).toBe(200);
      expect(via.headers.get("content-type")).toBe(direct.headers.get("content-type"));
      const [a, b] = [await direct.text(), await via.text()];
      // sized as the target sized it (the clock's digits make the two lengths differ by a byte or so)
      expect([direct.headers.get("content-length"), via.headers.get("content-length")]).toEqual([String(Buffer.byteLength(a)), String(Buffer.byteLength(b))]);
      expect(b.replace(TIME, "")).toBe(a.replace(TIME, ""));
    }
    await stream.abort();
  });

  test("an unload of a model the target does not have is the target's own 404, also at once", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 5 } });
    const stream = await longStream(stack);
    const via = new Ollama({ host: stack.url });
    const err = await whileBusy(stack, via.generate({ model: "ghost", keep_alive: 0 } as GenerateRequest & { stream: false }).catch((e: unknown) => e));
    expect(err).toMatchObject({ name: "ResponseError", status_code: 404, error: "model 'ghost' not found" });
    await stream.abort();
  });

  test("the scheduler stops counting an unloaded model as resident", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 1 } });
    const via = new Ollama({ host: stack.url });
    await via.generate({ model: "llama3.2", prompt: "hi" });
    expect(stack.foreman.services.poller.isResident("llama3.2")).toBe(true);
    await via.generate({ model: "llama3.2", keep_alive: 0 } as GenerateRequest & { stream: false });
    expect(stack.foreman.services.poller.isResident("llama3.2")).toBe(false);
  });
});

describe("what else needs no turn, and what does", () => {
  test("an unknown model gets Ollama's 404 while a stream runs, through the ollama client as directly", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 5 } });
    const stream = await longStream(stack);
    const direct = await new Ollama({ host: stack.sim.url }).chat({ model: "ghost", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    const via = await whileBusy(stack, new Ollama({ host: stack.url }).chat({ model: "ghost", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e));
    expect(via).toMatchObject({ name: "ResponseError", status_code: 404, error: "model 'ghost' not found" });
    expect((via as Error).message).toBe((direct as Error).message);
    await stream.abort();
  });

  test("the load idiom (an empty prompt, no keep_alive 0) is real work: it waits its turn", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 5 } });
    const stream = await longStream(stack);
    const load = new Ollama({ host: stack.url }).generate({ model: "mistral", prompt: "" });
    await waitFor(() => stack.foreman.services.queue.waitingInteractive() === 1, { what: "the load to wait in the queue" });
    expect(stack.sim.counters.requests["POST /api/generate"] ?? 0).toBe(0);
    await stream.abort();
    expect(await load).toMatchObject({ model: "mistral", done: true, done_reason: "load" });
    expect(stack.sim.resident()).toContain("mistral:latest");
  });
});
