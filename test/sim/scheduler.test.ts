import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { waitFor } from "../harness.ts";
import { ndjson, post } from "../wire.ts";

let sim: Simulator;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 10, loadMs: 60, maxLoaded: 1, responseTokens: 5 });
  ollama = new Ollama({ host: sim.url });
});
beforeEach(async () => {
  // Unload everything so each test starts cold.
  for (const name of sim.resident()) await ollama.generate({ model: name, prompt: "", keep_alive: 0 });
  await waitFor(() => sim.resident().length === 0 && sim.counters.concurrent === 0, { what: "no model resident and nothing in flight" });
  sim.resetCounters();
});
afterAll(() => sim.stop());

const gen = (model: string, extra: Record<string, unknown> = {}): Promise<Response> =>
  post(`${sim.url}/api/generate`, { model, prompt: "x", stream: false, ...extra });

describe("residency and counters", () => {
  test("loads and swaps with maxLoaded 1", async () => {
    await gen("llama3.2");
    await gen("llama3.2");
    expect(sim.counters.loads).toBe(1);
    expect(sim.counters.swaps).toBe(0);
    await gen("mistral");
    expect(sim.counters.loads).toBe(2);
    expect(sim.counters.swaps).toBe(1);
    expect(sim.resident()).toEqual(["mistral:latest"]);
    expect(sim.counters.completed).toBe(3);
    expect(sim.counters.requests["POST /api/generate"]).toBe(3);
  });

  test("the default keeps 3 models resident, Ollama's automatic OLLAMA_MAX_LOADED_MODELS without a GPU", async () => {
    const three = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 1, responseTokens: 1 });
    try {
      for (const model of ["llama3.2", "mistral", "qwen2.5:0.5b"]) await post(`${three.url}/api/generate`, { model, prompt: "x", stream: false });
      expect([three.resident().length, three.counters.loads, three.counters.swaps]).toEqual([3, 3, 0]);
      await post(`${three.url}/api/embed`, { model: "nomic-embed-text" });
      expect([three.resident().length, three.counters.loads, three.counters.swaps]).toEqual([3, 4, 1]);
    } finally {
      await three.stop();
    }
  });

  test("one slot per model: concurrent requests queue, maxConcurrent counts them", async () => {
    const t0 = performance.now();
    const replies = await Promise.all([gen("llama3.2"), gen("llama3.2"), gen("llama3.2")]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    // Three serialised generations of 5 tokens 10 ms apart each: at least 3 × 40 ms.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    expect(sim.counters.maxConcurrent).toBe(3);
    expect(sim.counters.concurrent).toBe(0);
    expect(sim.counters.loads).toBe(1);
  });

  test("client abort during generation counts as aborted and frees the slot", async () => {
    const ac = new AbortController();
    const res = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x", options: { num_predict: 500 } }, { signal: ac.signal });
    const reader = res.body!.getReader();
    await reader.read();
    ac.abort();
    await waitFor(() => sim.counters.aborted === 1 && sim.counters.concurrent === 0, { what: "one aborted request and nothing in flight" });
    expect((await gen("llama3.2")).status).toBe(200);
  });

  test("client abort during a load abandons the load", async () => {
    const ac = new AbortController();
    const pending = post(`${sim.url}/api/generate`, { model: "qwen2.5:0.5b", prompt: "x" }, { signal: ac.signal }).catch(() => null);
    await waitFor(() => sim.counters.loads === 1, { what: "one model load" });
    ac.abort();
    await pending;
    await waitFor(() => sim.counters.aborted === 1, { what: "one aborted request" });
    await Bun.sleep(100);
    expect(sim.resident()).toEqual([]);
  });

  test("others waiting on an abandoned load re-queue and still get an answer", async () => {
    const ac = new AbortController();
    const trigger = post(`${sim.url}/api/generate`, { model: "mistral", prompt: "x" }, { signal: ac.signal }).catch(() => null);
    await waitFor(() => sim.counters.loads === 1, { what: "one model load" });
    const follower = gen("mistral");
    await Bun.sleep(10);
    ac.abort();
    await trigger;
    expect((await follower).status).toBe(200);
    expect(sim.counters.loads).toBe(2);
    expect(sim.counters.aborted).toBe(1);
  });

  test("/api/ps waits for a load in progress", async () => {
    const load = gen("llama3.2");
    await waitFor(() => sim.counters.loads === 1, { what: "one model load" });
    const { models } = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string }> };
    expect(models.map((m) => m.name)).toEqual(["llama3.2:latest"]);
    await load;
  });

  test("keep_alive expiry unloads an idle model; sticky without keep_alive", async () => {
    await gen("llama3.2", { keep_alive: "150ms" });
    expect(sim.resident()).toEqual(["llama3.2:latest"]);
    await gen("llama3.2"); // no keep_alive: the 150ms stays
    await waitFor(() => sim.resident().length === 0, { what: "the model unloaded after keep_alive", timeoutMs: 2000 });
  });

  test("keep_alive 0 with work unloads after the request", async () => {
    await gen("llama3.2", { keep_alive: 0 });
    expect(sim.resident()).toEqual([]);
  });

  test("a num_ctx change reloads the model; /api/ps shows the runner's context length", async () => {
    const contexts = async (): Promise<Record<string, number>> => {
      const { models } = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string; context_length: number }> };
      return Object.fromEntries(models.map((m) => [m.name, m.context_length]));
    };
    await gen("llama3.2");
    expect(await contexts()).toEqual({ "llama3.2:latest": 4096 });
    await gen("llama3.2", { options: { num_ctx: 2048 } });
    expect(await contexts()).toEqual({ "llama3.2:latest": 2048 });
    expect([sim.counters.loads, sim.counters.swaps, sim.counters.reloads]).toEqual([2, 1, 1]);
    // Runtime options and an equal num_ctx reuse the runner.
    await gen("llama3.2", { options: { num_ctx: 2048, temperature: 0.1, seed: 7 } });
    expect(sim.counters.loads).toBe(2);
    // Back to the automatic context: 4096 differs from the runner's explicit 2048.
    await gen("llama3.2");
    expect([sim.counters.loads, sim.counters.reloads]).toEqual([3, 2]);
    expect(await contexts()).toEqual({ "llama3.2:latest": 4096 });
  });

  test("num_ctx is capped at the model's training context; other load-time options reload too", async () => {
    await gen("qwen2.5:0.5b", { options: { num_ctx: 1_000_000 } });
    const { models } = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ context_length: number }> };
    expect(models[0]?.context_length).toBe(32768);
    await gen("qwen2.5:0.5b", { options: { num_ctx: 1_000_000, num_batch: 64 } });
    await gen("qwen2.5:0.5b", { options: { num_ctx: 1_000_000, num_batch: 64 }, shift: false });
    expect([sim.counters.loads, sim.counters.reloads]).toEqual([3, 2]);
  });

  test("a reload waits for the old runner's in-flight request to finish", async () => {
    const order: string[] = [];
    const first = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x", options: { num_predict: 15 } });
    const firstBody = first.text().then((text) => (order.push("first done"), text));
    const second = gen("llama3.2", { options: { num_ctx: 1024 } }).then((res) => (order.push("second answered"), res));
    const [a, b] = await Promise.all([firstBody, second]);
    expect(ndjson(a).at(-1)?.done).toBe(true);
    expect(b.status).toBe(200);
    // The second request cannot even start loading before the first lets go of the old runner.
    expect(order).toEqual(["first done", "second answered"]);
    expect([sim.counters.loads, sim.counters.reloads]).toEqual([2, 1]);
  });

  test("an option of the wrong type is Ollama's 500 from scheduling, before any load", async () => {
    for (const [path, body] of [
      ["/api/generate", { model: "llama3.2", prompt: "x", options: { temperature: "hot" } }],
      ["/api/generate", { model: "llama3.2", prompt: "", options: { temperature: "hot" } }],
      ["/api/chat", { model: "llama3.2", messages: [{ role: "user", content: "x" }], options: { temperature: "hot" } }],
      ["/api/embed", { model: "nomic-embed-text", input: "x", options: { temperature: "hot" } }],
    ] as const) {
      const res = await post(`${sim.url}${path}`, body);
      expect([res.status, res.headers.get("content-type"), await res.json()]).toEqual([
        500,
        "application/json; charset=utf-8",
        { error: 'option "temperature" must be of type float32' },
      ]);
    }
    const err = await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "x" }], options: { num_ctx: "big" } as never }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status_code: 500, message: 'option "num_ctx" must be of type integer' });
    expect(sim.counters.loads).toBe(0);
    // The capability check comes first.
    const caps = await post(`${sim.url}/api/generate`, { model: "nomic-embed-text", prompt: "x", options: { temperature: "hot" } });
    expect(caps.status).toBe(400);
  });

  test("pending load queue is bounded by maxQueue", async () => {
    const small = await startSimulator({ port: 0, tokenDelayMs: 5, loadMs: 100, maxQueue: 1 });
    try {
      const body = (model: string) => ({ model, prompt: "x", stream: false });
      const first = post(`${small.url}/api/generate`, body("llama3.2"));
      await waitFor(() => small.counters.loads === 1, { what: "one model load" });
      const second = post(`${small.url}/api/generate`, body("mistral"));
      await Bun.sleep(20);
      const third = await post(`${small.url}/api/generate`, body("qwen2.5:0.5b"));
      expect([third.status, await third.json()]).toEqual([503, { error: "server busy, please try again.  maximum pending requests exceeded" }]);
      expect((await first).status).toBe(200);
      expect((await second).status).toBe(200);
      // Waiting for a resident model's slot is not limited.
      const many = await Promise.all([1, 2, 3].map(() => post(`${small.url}/api/generate`, body("mistral"))));
      expect(many.map((r) => r.status)).toEqual([200, 200, 200]);
    } finally {
      await small.stop();
    }
  });
});
