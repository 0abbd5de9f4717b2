// The simulator's `dropWhen` fault: the stand-in for a request that crashes Ollama. The
// request that carries the marker gets its connection closed before any byte, every time;
// every other request is served (ADR 0030).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { post } from "../wire.ts";

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 5, faults: { dropWhen: "KILL-THE-RUNNER" } });
});
afterAll(() => sim.stop());

describe("dropWhen", () => {
  test("the marked request is cut before the first byte every time; the others are served", async () => {
    for (let i = 0; i < 3; i++) {
      const err = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [{ role: "user", content: "KILL-THE-RUNNER" }] }).catch((e: unknown) => e as Error & { code?: string });
      expect(err).toBeInstanceOf(Error);
      expect((err as { code?: string }).code).toBe("ECONNRESET");
    }
    expect(sim.counters.dropped).toBe(3);
    const res = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [{ role: "user", content: "hello" }], stream: false });
    expect(res.status).toBe(200);
    expect((await fetch(`${sim.url}/api/version`)).status).toBe(200);
    expect(sim.counters.dropped).toBe(3);
  });

  test("switched off, the same request is served", async () => {
    await sim.setFaults({ dropWhen: null });
    const res = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [{ role: "user", content: "KILL-THE-RUNNER" }], stream: false });
    expect(res.status).toBe(200);
  });
});
