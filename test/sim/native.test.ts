import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { formatFloat32 } from "../../src/sim/gojson.ts";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, ndjson, post, readArrivals } from "../wire.ts";

let sim: Simulator;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 5, loadMs: 20, maxLoaded: 2 });
  ollama = new Ollama({ host: sim.url });
});
afterAll(() => sim.stop());

/** The error an ollama-js call throws, with its status. */
async function failure(promise: Promise<unknown>): Promise<{ message: string; status: number }> {
  try {
    await promise;
  } catch (err) {
    const e = err as Error & { status_code: number };
    return { message: e.message, status: e.status_code };
  }
  throw new Error("expected a failure");
}

describe("ollama-js chat and generate", () => {
  test("chat non-stream returns the accumulated reply and metrics", async () => {
    const res = await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] });
    expect(res.model).toBe("llama3.2");
    expect(res.done).toBe(true);
    expect(res.done_reason).toBe("stop");
    expect(res.message.role).toBe("assistant");
    expect(res.message.content.split(" ")).toHaveLength(12);
    expect(res.eval_count).toBe(12);
    expect(res.total_duration).toBeGreaterThan(0);
  });

  test("chat stream yields one token per chunk and is deterministic", async () => {
    const run = async (): Promise<string[]> => {
      const parts: string[] = [];
      for await (const part of await ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "same" }], stream: true })) {
        parts.push(part.message.content);
      }
      return parts;
    };
    const a = await run();
    expect(a).toHaveLength(13);
    expect(a[12]).toBe("");
    expect(await run()).toEqual(a);
  });

  test("num_predict limits output with done_reason length", async () => {
    const res = await ollama.generate({ model: "llama3.2", prompt: "count", options: { num_predict: 3 } });
    expect(res.done_reason).toBe("length");
    expect(res.eval_count).toBe(3);
    expect(res.context?.length).toBeGreaterThan(0);
  });

  test("seed changes the output", async () => {
    const a = await ollama.generate({ model: "llama3.2", prompt: "p", options: { seed: 1 } });
    const b = await ollama.generate({ model: "llama3.2", prompt: "p", options: { seed: 2 } });
    expect(a.response).not.toBe(b.response);
  });

  test("generate stream", async () => {
    let text = "";
    let last: { done: boolean; done_reason: string } | undefined;
    for await (const part of await ollama.generate({ model: "llama3.2", prompt: "go", stream: true })) {
      text += part.response;
      last = part;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(last?.done_reason).toBe("stop");
  });

  test("errors carry Ollama's status and text", async () => {
    expect(await failure(ollama.chat({ model: "nope", messages: [{ role: "user", content: "x" }] }))).toEqual({
      message: "model 'nope' not found",
      status: 404,
    });
    expect(await failure(ollama.generate({ model: "", prompt: "x" }))).toEqual({ message: "model '' not found", status: 404 });
    expect(await failure(ollama.chat({ model: "", messages: [] }))).toEqual({ message: "model is required", status: 400 });
    expect(await failure(ollama.chat({ model: "nomic-embed-text", messages: [{ role: "user", content: "x" }] }))).toEqual({
      message: '"nomic-embed-text" does not support chat',
      status: 400,
    });
    expect(await failure(ollama.generate({ model: "nomic-embed-text", prompt: "x" }))).toEqual({
      message: '"nomic-embed-text" does not support generate',
      status: 400,
    });
    expect(await failure(ollama.embed({ model: "nope", input: "x" }))).toEqual({
      message: 'model "nope" not found, try pulling it first',
      status: 404,
    });
    expect(await failure(ollama.chat({ model: "llama3.2", messages: [{ role: "user", content: "x" }], think: true }))).toEqual({
      message: '"llama3.2" does not support thinking',
      status: 400,
    });
    expect(await failure(ollama.show({ model: "nope" }))).toEqual({ message: "model 'nope:latest' not found", status: 404 });
  });
});

describe("embeddings", () => {
  test("/api/embed is normalized and deterministic", async () => {
    const a = await ollama.embed({ model: "nomic-embed-text", input: ["a", "b"] });
    expect(a.embeddings).toHaveLength(2);
    expect(a.embeddings[0]).toHaveLength(768);
    expect(Math.hypot(...a.embeddings[0]!)).toBeCloseTo(1, 4);
    const b = await ollama.embed({ model: "nomic-embed-text", input: "a" });
    expect(b.embeddings[0]).toEqual(a.embeddings[0]!);
    const cut = await ollama.embed({ model: "nomic-embed-text", input: "a", dimensions: 8 });
    expect(cut.embeddings[0]).toHaveLength(8);
  });

  test("/api/embeddings is not normalized; empty input only loads", async () => {
    const res = await ollama.embeddings({ model: "nomic-embed-text", prompt: "a" });
    expect(res.embedding).toHaveLength(768);
    expect(Math.abs(Math.hypot(...res.embedding) - 1)).toBeGreaterThan(0.01);
    expect(await (await post(`${sim.url}/api/embed`, { model: "nomic-embed-text" })).json()).toEqual({ model: "nomic-embed-text", embeddings: [] });
    expect(await (await post(`${sim.url}/api/embeddings`, { model: "nomic-embed-text", prompt: "" })).json()).toEqual({ embedding: [] });
    expect((await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: 5 })).status).toBe(400);
  });
});

describe("raw wire framing", () => {
  test("NDJSON stream: content type, one object per line, final chunk key order", async () => {
    const res = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "hello" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = ndjson(await res.text());
    expect(lines).toHaveLength(13);
    expect(Object.keys(lines[0]!)).toEqual(["model", "created_at", "response", "done"]);
    expect(lines[0]!.created_at).toMatch(/Z$/);
    expect(Object.keys(lines[12]!)).toEqual([
      "model",
      "created_at",
      "response",
      "done",
      "done_reason",
      "context",
      "total_duration",
      "load_duration",
      "prompt_eval_count",
      "prompt_eval_duration",
      "eval_count",
      "eval_duration",
    ]);
  });

  test("chat final chunk key order and stream:false content type", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [{ role: "user", content: "k" }] })).text());
    expect(Object.keys(lines.at(-1)!)).toEqual([
      "model",
      "created_at",
      "message",
      "done",
      "done_reason",
      "total_duration",
      "load_duration",
      "prompt_eval_count",
      "prompt_eval_duration",
      "eval_count",
      "eval_duration",
    ]);
    const res = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [{ role: "user", content: "k" }], stream: false });
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect((await jsonOf(res)).done).toBe(true);
  });

  test("chunks are spaced by the token delay", async () => {
    const slow = await startSimulator({ port: 0, tokenDelayMs: 50, loadMs: 0, responseTokens: 6 });
    try {
      const arrivals = await readArrivals(await post(`${slow.url}/api/generate`, { model: "llama3.2", prompt: "x" }));
      const first = arrivals[0]!;
      const last = arrivals.at(-1)!;
      expect(arrivals.length).toBeGreaterThanOrEqual(2);
      expect(last.at - first.at).toBeGreaterThanOrEqual(5 * 25);
    } finally {
      await slow.stop();
    }
  });

  test("404, 405, trailing slash, root and HEAD", async () => {
    const nf = await fetch(`${sim.url}/api/nothing`);
    expect([nf.status, nf.headers.get("content-type"), await nf.text()]).toEqual([404, "text/plain", "404 page not found"]);
    const na = await fetch(`${sim.url}/api/chat`);
    expect([na.status, await na.text()]).toEqual([405, "405 method not allowed"]);
    const slash = await fetch(`${sim.url}/api/tags/`, { redirect: "manual" });
    expect(slash.status).toBe(301);
    const root = await fetch(sim.url);
    expect([root.headers.get("content-type"), await root.text()]).toEqual(["text/plain; charset=utf-8", "Ollama is running"]);
    const head = await fetch(sim.url, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([200, "17", ""]);
    expect(await (await fetch(`${sim.url}/api/version`)).json()).toEqual({ version: "0.33.0" });
  });

  test("bodies: empty, malformed, any content type, bad keep_alive", async () => {
    const empty = await post(`${sim.url}/api/chat`, "");
    expect([empty.status, await empty.json()]).toEqual([400, { error: "missing request body" }]);
    const bad = await post(`${sim.url}/api/chat`, "xyz");
    expect([bad.status, await bad.json()]).toEqual([400, { error: "invalid character 'x' looking for beginning of value" }]);
    const form = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x", stream: false }, {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expect(form.status).toBe(200);
    const ka = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "x", keep_alive: "-1" });
    expect([ka.status, await ka.json()]).toEqual([400, { error: 'time: missing unit in duration "-1"' }]);
    const type = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [], stream: "yes" });
    expect(await type.json()).toEqual({ error: "json: cannot unmarshal string into Go struct field ChatRequest.stream of type bool" });
    const parts = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [{ role: "user", content: [{ type: "text", text: "x" }] }] });
    expect([parts.status, await parts.json()]).toEqual([400, { error: "json: cannot unmarshal array into Go struct field ChatRequest.messages.content of type string" }]);
  });

  test("load and unload replies", async () => {
    const load = await post(`${sim.url}/api/generate`, { model: "qwen2.5:0.5b" });
    expect(load.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const body = await jsonOf(load);
    expect(Object.keys(body)).toEqual(["model", "created_at", "response", "done", "done_reason"]);
    expect(body.done_reason).toBe("load");
    expect(sim.resident()).toContain("qwen2.5:0.5b");
    const unload = await jsonOf(await post(`${sim.url}/api/chat`, { model: "qwen2.5:0.5b", messages: [], keep_alive: 0 }));
    expect(unload.done_reason).toBe("unload");
    expect(unload.message).toEqual({ role: "assistant", content: "" });
    expect(sim.resident()).not.toContain("qwen2.5:0.5b");
    expect((await post(`${sim.url}/api/chat`, { model: "ghost", keep_alive: 0 })).status).toBe(404);
  });
});

describe("numbers, times and strings as Go writes them", () => {
  test("/api/embed vectors are float32 shortest text; /api/embeddings is float64", async () => {
    const embed = await (await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: "a" })).text();
    const numbers = /"embeddings":\[\[([^\]]*)\]\]/.exec(embed)?.[1]?.split(",") ?? [];
    expect(numbers).toHaveLength(768);
    // Each is the canonical shortest text of the float32 it reads back as.
    for (const n of numbers) expect(formatFloat32(Math.fround(Number(n)))).toBe(n);
    const legacy = await (await post(`${sim.url}/api/embeddings`, { model: "nomic-embed-text", prompt: "a" })).text();
    const first = /"embedding":\[([^,\]]*)/.exec(legacy)?.[1] ?? "";
    // A float32 value written as float64: more digits, same value.
    expect(Number(first)).toBe(Math.fround(Number(first)));
  });

  test("created_at is UTC with nanoseconds", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "t" })).text());
    const stamps = lines.map((l) => String(l.created_at));
    for (const stamp of stamps) expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    // Nanosecond digits appear (a millisecond clock would never give more than 3).
    expect(stamps.some((s) => /\.\d{4,9}Z$/.test(s))).toBe(true);
  });

  test("<, > and & in strings are escaped as \\u003c, \\u003e, \\u0026", async () => {
    const res = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [], think: "<b>&" });
    expect(res.status).toBe(400);
    const number = await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: [], think: 5 });
    expect(await number.json()).toEqual({ error: 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)' });
    expect(await res.text()).toBe('{"error":"invalid think value: \\"\\u003cb\\u003e\\u0026\\" (must be \\"high\\", \\"medium\\", \\"low\\", \\"max\\", true, or false)"}');
  });
});

describe("model management", () => {
  test("tags: shape, digest without prefix, newest first", async () => {
    const res = await fetch(`${sim.url}/api/tags`);
    const { models } = (await res.json()) as { models: Array<Record<string, unknown>> };
    expect(models.map((m) => m.name)).toEqual([
      "llama3.2:latest",
      "qwen2.5:0.5b",
      "mistral:latest",
      "nomic-embed-text:latest",
      "qwen3:0.6b",
      "qwen2.5-coder:0.5b",
    ]);
    expect(Object.keys(models[0]!)).toEqual(["name", "model", "modified_at", "size", "digest", "details", "capabilities"]);
    expect(models[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    const list = await ollama.list();
    expect(list.models).toHaveLength(6);
  });

  test("ps: shape and keep_alive -1 expires far ahead", async () => {
    await ollama.generate({ model: "mistral", prompt: "", keep_alive: -1 });
    const { models } = (await (await fetch(`${sim.url}/api/ps`)).json()) as { models: Array<Record<string, unknown>> };
    const row = models.find((m) => m.name === "mistral:latest")!;
    expect(Object.keys(row)).toEqual(["name", "model", "size", "digest", "details", "expires_at", "size_vram", "context_length"]);
    // Go adds MaxInt64 ns (about 292 years) to now; nanoseconds and all.
    const stamp = String(row.expires_at);
    expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,9}(Z|[+-]\d\d:\d\d)$/);
    const expected = Date.now() + 9_223_372_036_854.775807;
    expect(Math.abs(Date.parse(stamp.replace(/(\.\d{3})\d*/, "$1")) - expected)).toBeLessThan(60_000);
    const ps = await ollama.ps();
    expect(ps.models.map((m) => m.name)).toContain("mistral:latest");
  });

  test("show", async () => {
    const res = await ollama.show({ model: "llama3.2" });
    expect(res.details.family).toBe("llama");
    expect(res.capabilities).toContain("completion");
    expect((res.model_info as unknown as Record<string, unknown>)["llama.context_length"]).toBe(131072);
  });

  test("pull: progress stream, stream:false, unknown model", async () => {
    const statuses: string[] = [];
    for await (const p of await ollama.pull({ model: "phi3", stream: true })) statuses.push(p.status);
    expect(statuses[0]).toBe("pulling manifest");
    expect(statuses.at(-1)).toBe("success");
    expect((await ollama.list()).models.map((m) => m.name)).toContain("phi3:latest");
    expect(await ollama.pull({ model: "gemma2:2b" })).toEqual({ status: "success" } as never);
    const raw = await post(`${sim.url}/api/pull`, { model: "no-such-model" });
    expect(raw.status).toBe(200);
    expect(ndjson(await raw.text()).at(-1)).toEqual({ error: "pull model manifest: file does not exist" });
    await expect(ollama.pull({ model: "no-such-model", stream: false })).rejects.toThrow("pull model manifest: file does not exist");
  });

  test("copy and delete have empty bodies", async () => {
    const copied = await post(`${sim.url}/api/copy`, { source: "llama3.2", destination: "mine:v1" });
    expect([copied.status, await copied.text()]).toEqual([200, ""]);
    expect((await ollama.list()).models.map((m) => m.name)).toContain("mine:v1");
    expect(await failure(ollama.copy({ source: "ghost", destination: "x" }))).toEqual({ message: 'model "ghost" not found', status: 404 });
    const deleted = await fetch(`${sim.url}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "mine:v1" }) });
    expect([deleted.status, await deleted.text()]).toEqual([200, ""]);
    expect(await failure(ollama.delete({ model: "mine:v1" }))).toEqual({ message: "model 'mine:v1' not found", status: 404 });
  });
});
