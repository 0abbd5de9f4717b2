import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { eventually } from "../harness.ts";
import { post } from "../wire.ts";

let sim: Simulator;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 10, loadMs: 60, maxLoaded: 1, responseTokens: 5 });
  ollama = new Ollama({ host: sim.url });
});
beforeEach(async () => {
  // Unload everything so each test starts cold.
  for (const name of sim.resident()) await ollama.generate({ model: name, prompt: "", keep_alive: 0 });
  await eventually(() => sim.resident().length === 0 && sim.counters.concurrent === 0);
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
    await eventually(() => sim.counters.aborted === 1 && sim.counters.concurrent === 0);
    expect((await gen("llama3.2")).status).toBe(200);
  });

  test("client abort during a load abandons the load", async () => {
    const ac = new AbortController();
    const pending = post(`${sim.url}/api/generate`, { model: "qwen2.5:0.5b", prompt: "x" }, { signal: ac.signal }).catch(() => null);
    await eventually(() => sim.counters.loads === 1);
    ac.abort();
    await pending;
    await eventually(() => sim.counters.aborted === 1);
    await Bun.sleep(100);
    expect(sim.resident()).toEqual([]);
  });

  test("others waiting on an abandoned load re-queue and still get an answer", async () => {
    const ac = new AbortController();
    const trigger = post(`${sim.url}/api/generate`, { model: "mistral", prompt: "x" }, { signal: ac.signal }).catch(() => null);
    await eventually(() => sim.counters.loads === 1);
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
    await eventually(() => sim.counters.loads === 1);
    const { models } = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<{ name: string }> };
    expect(models.map((m) => m.name)).toEqual(["llama3.2:latest"]);
    await load;
  });

  test("keep_alive expiry unloads an idle model; sticky without keep_alive", async () => {
    await gen("llama3.2", { keep_alive: "150ms" });
    expect(sim.resident()).toEqual(["llama3.2:latest"]);
    await gen("llama3.2"); // no keep_alive: the 150ms stays
    await eventually(() => sim.resident().length === 0, 2000);
  });

  test("keep_alive 0 with work unloads after the request", async () => {
    await gen("llama3.2", { keep_alive: 0 });
    expect(sim.resident()).toEqual([]);
  });

  test("pending load queue is bounded by maxQueue", async () => {
    const small = await startSimulator({ port: 0, tokenDelayMs: 5, loadMs: 100, maxQueue: 1 });
    try {
      const body = (model: string) => ({ model, prompt: "x", stream: false });
      const first = post(`${small.url}/api/generate`, body("llama3.2"));
      await eventually(() => small.counters.loads === 1);
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
