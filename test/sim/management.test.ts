import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, ndjson, post } from "../wire.ts";

let sim: Simulator;
let ollama: Ollama;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 1 });
  ollama = new Ollama({ host: sim.url });
});
afterAll(() => sim.stop());

const tagNames = async (): Promise<string[]> => (await ollama.list()).models.map((m) => m.name);
const sha256 = (data: string | Uint8Array): string => `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
const statuses = (lines: Array<Record<string, unknown>>): unknown[] => lines.map((l) => l.status ?? l.error);

describe("/api/create", () => {
  test("from a local model: its layers, the new ones, writing manifest, success; then it is in tags", async () => {
    const res = await post(`${sim.url}/api/create`, { model: "terse", from: "llama3.2", system: "Be terse.", parameters: { temperature: 0.2 } });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = ndjson(await res.text());
    const layer = /^(using existing|creating new) layer sha256:[0-9a-f]{64}$/;
    expect(lines.slice(0, -2).every((l) => layer.test(String(l.status)))).toBe(true);
    expect(lines.slice(0, 2).map((l) => String(l.status).split(" sha256")[0])).toEqual(["using existing layer", "using existing layer"]);
    expect(lines.at(-3)?.status).toBe(`creating new layer ${sha256('{"temperature":0.2}\n')}`);
    expect(lines.at(-4)?.status).toBe(`creating new layer ${sha256("Be terse.")}`);
    expect(statuses(lines.slice(-2))).toEqual(["writing manifest", "success"]);
    expect(await tagNames()).toContain("terse:latest");
    const reply = await ollama.chat({ model: "terse", messages: [{ role: "user", content: "hi" }] });
    expect(reply.done).toBe(true);
  });

  test("the same content again is an existing layer; stream:false answers with the last status", async () => {
    const res = await post(`${sim.url}/api/create`, { model: "terse2", from: "llama3.2", system: "Be terse.", stream: false });
    expect([res.status, res.headers.get("content-type"), await res.json()]).toEqual([200, "application/json", { status: "success" }]);
    const lines = ndjson(await (await post(`${sim.url}/api/create`, { model: "terse3", from: "terse2", system: "Be terse." })).text());
    expect(lines.some((l) => l.status === `using existing layer ${sha256("Be terse.")}`)).toBe(true);
    expect(lines.some((l) => String(l.status).startsWith("creating new layer"))).toBe(false);
  });

  test("from a model not pulled yet: the pull's progress first (success and all)", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/create`, { model: "mygemma", from: "gemma2:2b" })).text());
    expect(lines[0]).toEqual({ status: "pulling manifest" });
    expect(lines.filter((l) => l.status === "success")).toHaveLength(2);
    expect(await tagNames()).toContain("mygemma:latest");
  });

  test("quantizing an F16 model; refusing an already quantized one", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/create`, { model: "small-embed", from: "nomic-embed-text", quantize: "q4_K_M" })).text());
    expect(lines[0]).toMatchObject({ status: "quantizing F16 model to Q4_K_M", digest: "0000000000000000000" });
    expect(lines.some((l) => l.status === "verifying conversion")).toBe(true);
    expect((await ollama.show({ model: "small-embed" })).details.quantization_level).toBe("Q4_K_M");
    // Nothing was streamed yet, so the error is the whole reply, with its status.
    const refused = await post(`${sim.url}/api/create`, { model: "x", from: "llama3.2", quantize: "q8_0" });
    expect([refused.status, refused.headers.get("content-type"), await refused.json()]).toEqual([
      500,
      "application/json",
      { error: "quantization is only supported for F16, BF16 and F32 models" },
    ]);
  });

  test("errors: before the stream (400 JSON), and inside it", async () => {
    const neither = await post(`${sim.url}/api/create`, { model: "x" });
    expect([neither.status, neither.headers.get("content-type"), await neither.json()]).toEqual([400, "application/json", { error: "neither 'from' or 'files' was specified" }]);
    const badName = await post(`${sim.url}/api/create`, { model: "bad name!", from: "llama3.2" });
    expect([badName.status, await badName.json()]).toEqual([400, { error: "invalid model name" }]);
    const badPath = await post(`${sim.url}/api/create`, { model: "x", files: { "../m.gguf": sha256("x") } });
    expect([badPath.status, await badPath.json()]).toEqual([400, { error: "file path must be relative" }]);
    const unknown = ndjson(await (await post(`${sim.url}/api/create`, { model: "x", from: "no-such-model" })).text());
    expect(unknown).toEqual([{ status: "pulling manifest" }, { error: "pull model manifest: file does not exist" }]);
    const missingBlob = ndjson(await (await post(`${sim.url}/api/create`, { model: "x", files: { "m.gguf": sha256("never uploaded") } })).text());
    expect(missingBlob.at(-1)?.error).toMatch(/^open \/\S+\/blobs\/sha256-[0-9a-f]{64}: no such file or directory$/);
    expect(await tagNames()).not.toContain("x:latest");
  });

  test("ollama-js create from files uploaded with /api/blobs", async () => {
    const weights = new TextEncoder().encode("GGUF pretend weights");
    const digest = sha256(weights);
    expect((await fetch(`${sim.url}/api/blobs/${digest}`, { method: "POST", body: weights })).status).toBe(201);
    const seen: string[] = [];
    // ollama-js passes fields it does not type (files) through to the body.
    const request = { model: "from-files", files: { "model.gguf": digest }, stream: true as const };
    for await (const p of await ollama.create(request)) seen.push(p.status);
    expect(seen).toEqual(["parsing GGUF", `using existing layer ${digest}`, "writing manifest", "success"]);
    expect(await tagNames()).toContain("from-files:latest");
  });
});

describe("/api/push", () => {
  test("progress: retrieving manifest, each layer (config last), pushing manifest, success", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/push`, { model: "llama3.2" })).text());
    expect(lines[0]).toEqual({ status: "retrieving manifest" });
    expect(lines[1]).toEqual({ status: expect.stringMatching(/^pushing [0-9a-f]{12}$/), digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), total: 2019393189 });
    expect(lines[3]).toMatchObject({ total: 2019393189, completed: 2019393189 });
    expect(statuses(lines.slice(-2))).toEqual(["pushing manifest", "success"]);
    const viaClient: string[] = [];
    for await (const p of await ollama.push({ model: "llama3.2", stream: true })) viaClient.push(p.status);
    expect(viaClient.at(-1)).toBe("success");
    expect(await ollama.push({ model: "llama3.2" })).toEqual({ status: "success" } as never);
  });

  test("an unknown model: the manifest error after two statuses; model is required", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/push`, { model: "ghost" })).text());
    expect(statuses(lines.slice(0, 2))).toEqual(["retrieving manifest", "couldn't retrieve manifest"]);
    expect(lines[2]?.error).toMatch(/^open \/\S+\/manifests\/registry\.ollama\.ai\/library\/ghost\/latest: no such file or directory$/);
    const whole = await post(`${sim.url}/api/push`, { model: "ghost", stream: false });
    expect(whole.status).toBe(500);
    const none = await post(`${sim.url}/api/push`, {});
    expect([none.status, await none.json()]).toEqual([400, { error: "model is required" }]);
  });
});

describe("/api/blobs/:digest", () => {
  const body = "some blob bytes";
  const digest = sha256(body);

  test("HEAD 404 until uploaded; POST 201, then 200; HEAD 200", async () => {
    const before = await fetch(`${sim.url}/api/blobs/${digest}`, { method: "HEAD" });
    expect(before.status).toBe(404);
    const created = await post(`${sim.url}/api/blobs/${digest}`, body);
    expect([created.status, await created.text()]).toEqual([201, ""]);
    const again = await post(`${sim.url}/api/blobs/${digest}`, body);
    expect([again.status, await again.text()]).toEqual([200, ""]);
    expect((await fetch(`${sim.url}/api/blobs/${digest}`, { method: "HEAD" })).status).toBe(200);
    // The file is named with "-": the other spelling finds the same blob.
    expect((await fetch(`${sim.url}/api/blobs/${digest.replace(":", "-")}`, { method: "HEAD" })).status).toBe(200);
  });

  test("a model's layers are blobs too", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/pull`, { model: "llama3.2" })).text());
    const layer = String(lines[1]?.digest);
    expect((await fetch(`${sim.url}/api/blobs/${layer}`, { method: "HEAD" })).status).toBe(200);
  });

  test("a body with another digest: 400, and the blob is kept under its real digest", async () => {
    const other = "different bytes";
    const wanted = sha256("what the client claimed");
    const res = await post(`${sim.url}/api/blobs/${wanted}`, other);
    expect([res.status, await res.json()]).toEqual([400, { error: `digest mismatch, expected "${wanted}", got "${sha256(other)}"` }]);
    expect((await fetch(`${sim.url}/api/blobs/${wanted}`, { method: "HEAD" })).status).toBe(404);
    expect((await fetch(`${sim.url}/api/blobs/${sha256(other)}`, { method: "HEAD" })).status).toBe(200);
  });

  test("a malformed digest is 400; the 404 names the digest", async () => {
    const bad = await post(`${sim.url}/api/blobs/sha256:1234`, "x");
    expect([bad.status, await bad.json()]).toEqual([400, { error: "invalid digest format" }]);
    const missing = await fetch(`${sim.url}/api/blobs/${sha256("nope")}`, { method: "HEAD" });
    expect([missing.status, missing.headers.get("content-type")]).toEqual([404, "application/json; charset=utf-8"]);
  });

  test("a large upload streams through the hasher (16 MiB in 64 KiB chunks)", async () => {
    const chunk = new Uint8Array(64 * 1024).map((_, i) => i % 251);
    const count = 256;
    const hasher = new Bun.CryptoHasher("sha256");
    for (let i = 0; i < count; i++) hasher.update(chunk);
    const large = `sha256:${hasher.digest("hex")}`;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < count) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await fetch(`${sim.url}/api/blobs/${large}`, { method: "POST", body: stream });
    expect(res.status).toBe(201);
    expect((await fetch(`${sim.url}/api/blobs/${large}`, { method: "HEAD" })).status).toBe(200);
    const lines = ndjson(await (await post(`${sim.url}/api/create`, { model: "big", files: { "big.gguf": large } })).text());
    expect(lines.at(-1)).toEqual({ status: "success" });
    const shown = await jsonOf<{ details: Record<string, unknown> }>(await post(`${sim.url}/api/show`, { model: "big" }));
    expect(shown.details.format).toBe("gguf");
  });
});
