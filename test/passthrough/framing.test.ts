// Framing and headers, direct vs through foreman (ADR 0019): a non-streamed reply keeps the
// target's Content-Length, HEAD says the length GET would have, query strings reach the target,
// coalesced metadata GETs carry the caller's User-Agent and Accept (and only identical ones are
// shared), and a compressing hop between foreman and Ollama never hands a client gzip bytes.
import { describe, expect, test } from "bun:test";
import { perTest, sharedStack, waitFor } from "../harness.ts";

const chat = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], ...extra });

describe("lengths", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 1 } });

  test("a queued non-streamed reply carries the target's Content-Length (Ollama sizes up to 2 KiB); a larger or streamed one is chunked on both", async () => {
    for (const [path, body, sized] of [
      ["/api/chat", chat({ stream: false }), true],
      ["/api/generate", JSON.stringify({ model: "llama3.2", prompt: "hi", stream: false }), true],
      ["/v1/chat/completions", chat(), true],
      ["/v1/completions", JSON.stringify({ model: "llama3.2", prompt: "hi" }), true],
      ["/api/embed", JSON.stringify({ model: "nomic-embed-text", input: "hi" }), false],
      ["/v1/embeddings", JSON.stringify({ model: "nomic-embed-text", input: "hi" }), false],
      ["/api/generate", JSON.stringify({ model: "mistral", prompt: "" }), true],
      ["/api/chat", chat(), false],
      ["/v1/chat/completions", chat({ stream: true }), false],
    ] as const) {
      const direct = await fetch(`${stack.sim.url}${path}`, { method: "POST", body });
      const via = await fetch(`${stack.url}${path}`, { method: "POST", body });
      const [a, b] = [await direct.arrayBuffer(), await via.arrayBuffer()];
      const length = (res: Response, bytes: ArrayBuffer) => ({ declared: res.headers.get("content-length"), actual: String(bytes.byteLength) });
      expect({ path, sized, ...length(via, b) }).toEqual({ path, sized, actual: String(b.byteLength), declared: sized ? String(b.byteLength) : null });
      expect({ path, direct: direct.headers.get("content-length") !== null }).toEqual({ path, direct: sized });
      if (!/ndjson|event-stream/.test(direct.headers.get("content-type") ?? "")) expect({ path, sized, small: a.byteLength <= 2048 }).toEqual({ path, sized, small: sized });
    }
  });

  test("HEAD /, /api/version, /api/tags and the catch-all say the length GET has when the target does (a reply over 2 KiB has none)", async () => {
    for (const path of ["/", "/api/version", "/api/tags", "/api/ps", "/api/status"]) {
      const get = await fetch(`${stack.url}${path}`);
      const size = (await get.arrayBuffer()).byteLength;
      const length = size <= 2048 ? String(size) : null;
      const head = await fetch(`${stack.url}${path}`, { method: "HEAD" });
      const direct = await fetch(`${stack.sim.url}${path}`, { method: "HEAD" });
      expect({ path, get: get.headers.get("content-length"), head: head.headers.get("content-length") }).toEqual({ path, get: length, head: direct.headers.get("content-length") });
      if (direct.ok) expect({ path, head: head.headers.get("content-length") }).toEqual({ path, head: length });
    }
  });
});

describe("what reaches the target", () => {
  const start = perTest();

  /** A target that records each request and answers like Ollama, after `delayMs` for /api/tags. */
  function recordingTarget(delayMs = 0) {
    const seen: { url: string; headers: Headers }[] = [];
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        seen.push({ url: url.pathname + url.search, headers: req.headers });
        if (url.pathname === "/") return new Response("Ollama is running");
        if (url.pathname === "/api/tags") {
          await Bun.sleep(delayMs);
          return Response.json({ models: [{ name: "m:latest", model: "m:latest" }] });
        }
        return Response.json({ model: "m", created_at: "x", message: { role: "assistant", content: "" }, done: true, done_reason: "stop" });
      },
    });
    start.defer(() => target.stop(true));
    return { url: `http://127.0.0.1:${target.port}`, seen };
  }

  test("query strings are kept on queued routes", async () => {
    const target = recordingTarget();
    const foreman = await start.foreman({ target: target.url, pollIntervalMs: 3_600_000 });
    for (const path of ["/api/chat?trace=1", "/v1/chat/completions?api-version=2024-10-21", "/v1/messages?beta=true"]) {
      const body = path.startsWith("/v1/messages") ? JSON.stringify({ model: "m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) : JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }], stream: false });
      const res = await fetch(`${foreman.url}${path}`, { method: "POST", body });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      expect(target.seen.map((s) => s.url)).toContain(path);
    }
  });

  test("coalesced GETs carry the caller's User-Agent and Accept, and only identical requests share one", async () => {
    const target = recordingTarget(150);
    const foreman = await start.foreman({ target: target.url, pollIntervalMs: 3_600_000 });
    await waitFor(() => foreman.services.poller.up === true && target.seen.some((s) => s.url === "/api/tags"), { what: "the poller's first look" });
    const tags = () => target.seen.filter((s) => s.url === "/api/tags");
    const before = tags().length;
    const get = (ua: string, accept = "application/json") => fetch(`${foreman.url}/api/tags`, { headers: { "user-agent": ua, accept } }).then((r) => r.json());
    await Promise.all([get("ollama-js/0.6.3 (x64 linux Node.js/v22)"), get("ollama-js/0.6.3 (x64 linux Node.js/v22)"), get("ollama/0.33.0 (amd64 linux) Go/go1.24.0"), get("ollama/0.33.0 (amd64 linux) Go/go1.24.0", "application/x-ndjson")]);
    const sent = tags().slice(before);
    expect(sent.map((s) => [s.headers.get("user-agent"), s.headers.get("accept")]).sort()).toEqual([
      ["ollama-js/0.6.3 (x64 linux Node.js/v22)", "application/json"],
      ["ollama/0.33.0 (amd64 linux) Go/go1.24.0", "application/json"],
      ["ollama/0.33.0 (amd64 linux) Go/go1.24.0", "application/x-ndjson"],
    ]);
  });
});

describe("a compressing hop between foreman and Ollama", () => {
  const start = perTest();

  /** A reverse proxy in front of the simulator that gzips replies when asked (or always). */
  async function gzippingHop(always: boolean) {
    const stack = await start.stack({ sim: { tokenDelayMs: 1 } });
    const asked: string[] = [];
    const hop = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(req) {
        const url = new URL(req.url);
        const headers = new Headers(req.headers);
        headers.delete("host");
        headers.delete("accept-encoding");
        const upstream = await fetch(`${stack.sim.url}${url.pathname}${url.search}`, { method: req.method, headers, body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer() });
        const body = new Uint8Array(await upstream.arrayBuffer());
        const out = new Headers(upstream.headers);
        out.delete("content-length");
        asked.push(req.headers.get("accept-encoding") ?? "");
        if (!always && !/gzip/.test(req.headers.get("accept-encoding") ?? "")) return new Response(body, { status: upstream.status, headers: out });
        out.set("content-encoding", "gzip");
        return new Response(Bun.gzipSync(body), { status: upstream.status, headers: out });
      },
    });
    start.defer(() => hop.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${hop.port}` });
    return { foreman, asked };
  }

  test.each([false, true])("clients get plain JSON, never gzip bytes without Content-Encoding (hop compresses regardless: %p)", async (always) => {
    const { foreman, asked } = await gzippingHop(always);
    for (const [method, path, body] of [
      ["GET", "/api/tags", undefined],
      ["GET", "/api/version", undefined],
      ["POST", "/api/show", JSON.stringify({ model: "llama3.2" })],
      ["POST", "/api/chat", chat({ stream: false })],
      ["POST", "/api/chat", chat()],
      ["POST", "/v1/chat/completions", chat({ stream: true })],
    ] as const) {
      const res = await fetch(`${foreman.url}${path}`, { method, body, decompress: false } as RequestInit);
      const text = new TextDecoder().decode(await res.arrayBuffer());
      expect({ path, status: res.status, encoding: res.headers.get("content-encoding"), readable: /^[[{"d]/.test(text) }).toEqual({ path, status: 200, encoding: null, readable: true });
    }
    // foreman asks for the bytes as they are
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set(["identity"]));
  });
});
