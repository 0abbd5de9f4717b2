import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI, { APIError } from "openai";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, ndjson, post, sseData } from "../wire.ts";
import { waitFor } from "../harness.ts";

let sim: Simulator;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 5, loadMs: 10, maxLoaded: 3 });
  ollama = new Ollama({ host: sim.url });
});
afterEach(() =>
  sim.setFaults({ asleep: false, hung: false, firstByteDelayMs: 0, errorBeforeFirstByte: null, errorMidStream: null, busy: false, failLoad: [], endless: false }),
);
afterAll(() => sim.stop());

const chatBody = { model: "llama3.2", messages: [{ role: "user", content: "hi" }] };

describe("fault switches", () => {
  test("asleep refuses connections, waking re-listens on the same port", async () => {
    const port = sim.port;
    await sim.setFaults({ asleep: true });
    const err = await fetch(`${sim.url}/api/version`).catch((e: unknown) => e as Error & { code?: string });
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe("ECONNREFUSED");
    await sim.setFaults({ asleep: false });
    expect(sim.port).toBe(port);
    expect((await fetch(`${sim.url}/api/version`)).status).toBe(200);
  });

  test("hung accepts but never answers until the client aborts", async () => {
    await sim.setFaults({ hung: true });
    const ac = new AbortController();
    let settled = false;
    const pending = fetch(`${sim.url}/api/tags`, { signal: ac.signal }).finally(() => (settled = true));
    await Bun.sleep(150);
    expect(settled).toBe(false);
    ac.abort();
    await expect(pending).rejects.toThrow();
  });

  test("firstByteDelayMs: no headers before the delay", async () => {
    await sim.setFaults({ firstByteDelayMs: 200 });
    const t0 = performance.now();
    const res = await post(`${sim.url}/api/chat`, chatBody);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(180);
    expect(res.status).toBe(200);
    await res.text();
  });

  test("errorBeforeFirstByte: JSON error in each dialect", async () => {
    await sim.setFaults({ errorBeforeFirstByte: { status: 500, message: "boom" } });
    const native = await post(`${sim.url}/api/chat`, chatBody);
    expect([native.status, native.headers.get("content-type"), await native.json()]).toEqual([500, "application/json", { error: "boom" }]);
    await expect(ollama.chat({ ...chatBody, stream: true })).rejects.toMatchObject({ status_code: 500, message: "boom" });
    const v1 = await post(`${sim.url}/v1/chat/completions`, chatBody);
    expect(await v1.json()).toEqual({ error: { message: "boom", type: "api_error", param: null, code: null } });
  });

  test("errorMidStream: error line, no done; ollama-js throws the message", async () => {
    await sim.setFaults({ errorMidStream: { afterChunks: 3, message: "runner crashed" } });
    const raw = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x" });
    expect(raw.status).toBe(200);
    const lines = ndjson(await raw.text());
    expect(lines).toHaveLength(4);
    expect(lines[3]).toEqual({ error: "runner crashed" });
    expect(lines.some((l) => l.done === true)).toBe(false);
    const seen: string[] = [];
    const iterate = async (): Promise<void> => {
      for await (const part of await ollama.chat({ ...chatBody, stream: true })) seen.push(part.message.content);
    };
    await expect(iterate()).rejects.toThrow("runner crashed");
    expect(seen).toHaveLength(3);
    const whole = await post(`${sim.url}/api/chat`, { ...chatBody, stream: false });
    expect([whole.status, await whole.json()]).toEqual([500, { error: "runner crashed" }]);
  });

  test("errorMidStream on /v1 SSE is lossy: empty content chunk, no [DONE]", async () => {
    await sim.setFaults({ errorMidStream: { afterChunks: 2, message: "runner crashed" } });
    const res = await post(`${sim.url}/v1/chat/completions`, { ...chatBody, stream: true });
    const data = sseData(await res.text());
    expect(data).toHaveLength(3);
    expect(data).not.toContain("[DONE]");
    expect((JSON.parse(data[2]!) as { choices: Array<{ delta: unknown }> }).choices[0]?.delta).toEqual({ content: "" });
    expect(res.status).toBe(200);
  });

  test("busy: 503 with Ollama's exact message", async () => {
    await sim.setFaults({ busy: true });
    const res = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x" });
    expect([res.status, await res.json()]).toEqual([503, { error: "server busy, please try again.  maximum pending requests exceeded" }]);
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
    const err = await openai.chat.completions.create({ model: "llama3.2", messages: chatBody.messages as [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBe(503);
  });

  test("failLoad: the load fails with a 500 and the model is not resident", async () => {
    await sim.setFaults({ failLoad: ["mistral"] });
    const res = await post(`${sim.url}/api/generate`, { model: "mistral", prompt: "x" });
    expect(res.status).toBe(500);
    expect((await jsonOf<{ error: string }>(res)).error).toContain("llama-server process has terminated");
    expect(sim.resident()).not.toContain("mistral:latest");
    await sim.setFaults({ failLoad: [] });
    expect((await post(`${sim.url}/api/generate`, { model: "mistral", prompt: "x", stream: false })).status).toBe(200);
  });

  test("endless: a stream never ends, its reply repeating, until the caller goes away (a looping model)", async () => {
    await sim.setFaults({ endless: true });
    const ac = new AbortController();
    const res = await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...chatBody, options: { num_predict: 3 } }), signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let lines: { done: boolean }[] = [];
    let text = "";
    // three times the reply's length and still going: no done line
    while (lines.length < 10) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      text += decoder.decode(value, { stream: true });
      lines = text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { done: boolean });
    }
    expect(lines.filter((l) => l.done !== false)).toEqual([]);
    const aborted = sim.counters.aborted;
    ac.abort();
    await reader.cancel().catch(() => {});
    await waitFor(() => sim.counters.aborted === aborted + 1, { what: "the simulator to count the aborted stream" });
  });
});
