// foreman's own answers before the queue are Ollama's (ADR 0019): for every inference endpoint
// and every body Ollama refuses before looking at the model — empty, malformed, not an object,
// no model, a model of the wrong type or a name Ollama cannot parse, the /v1 middlewares' own
// checks — and for a model the target does not have, foreman's reply (status and body) is the
// simulator's, and the target is not asked to run it.
import { beforeAll, describe, expect, test } from "bun:test";
import { sharedStack, waitFor } from "../harness.ts";

// one poll at start, then none: what the poller has listed is what the test says it is
const stack = sharedStack({ foreman: { pollIntervalMs: 3_600_000 } });
beforeAll(() => waitFor(() => stack.foreman.services.poller.up === true && stack.foreman.services.poller.tags, { what: "the poller's first look at the target" }));

/** A body each endpoint accepts apart from its model. */
const REST: Record<string, Record<string, unknown>> = {
  "/api/chat": { messages: [{ role: "user", content: "hi" }] },
  "/api/generate": { prompt: "hi" },
  "/api/embed": { input: "hi" },
  "/api/embeddings": { prompt: "hi" },
  "/v1/chat/completions": { messages: [{ role: "user", content: "hi" }] },
  "/v1/completions": { prompt: "hi" },
  "/v1/embeddings": { input: "hi" },
  "/v1/responses": { input: "hi" },
  "/v1/messages": { max_tokens: 16, messages: [{ role: "user", content: "hi" }] },
};

const GENERIC = [
  "",
  " \r\n\t",
  "x",
  "{",
  '{"model":}',
  '{"model":"llama3.2"',
  "{model:1}",
  '{"model":"llama3.2" "x":1}',
  "[]",
  '"text"',
  "42",
  "null",
  "{}",
  '{"model":null}',
  '{"model":5}',
  '{"model":["llama3.2"]}',
  // a number beyond a float64: Go's decoder refuses it (JSON.parse would read Infinity)
  '{"model":"llama3.2","options":{"temperature":1e999}}',
];

/** Per endpoint: no model, an empty and a blank one, an unknown one, and the checks Ollama makes first. */
function specific(path: string): string[] {
  const rest = REST[path]!;
  const body = (over: Record<string, unknown>) => JSON.stringify({ ...rest, ...over });
  const extra: Record<string, unknown>[] = {
    "/api/chat": [{ top_logprobs: 21 }, { model: "ghost", top_logprobs: -1 }],
    "/api/generate": [{ top_logprobs: 21 }],
    "/api/embed": [{ model: "ghost", input: 5 }, { input: [1] }],
    "/api/embeddings": [],
    "/v1/chat/completions": [{ messages: [] }, { model: "llama3.2", messages: [] }, { messages: {} }, { top_logprobs: 30 }],
    "/v1/completions": [{ logprobs: 25 }, { logprobs: -1 }],
    "/v1/embeddings": [{ input: undefined }, { input: [] }, { model: "llama3.2", input: null }, { encoding_format: "hex" }, { model: "ghost", input: [1] }],
    "/v1/responses": [],
    "/v1/messages": [{ max_tokens: 0 }, { model: "llama3.2", max_tokens: undefined }, { model: "llama3.2", messages: [] }, { model: "llama3.2", max_tokens: "16" }, { model: "llama3.2", messages: "hi" }],
  }[path]!;
  return [
    JSON.stringify(rest),
    body({ model: "" }),
    body({ model: "  " }),
    body({ model: "ghost" }),
    body({ model: "Ghost:Latest" }),
    body({ model: "someone/ghost:7b" }),
    // names Ollama cannot parse: too long (a megabyte of one would fill the queue), bad characters, too many parts
    body({ model: "m".repeat(1 << 20) }),
    body({ model: `${"m".repeat(81)}:latest` }),
    body({ model: "bad name!" }),
    body({ model: "a/b/c/d" }),
    ...extra.map(body),
  ];
}

/**
 * The parts of a reply both must agree on, byte for byte (Ollama's writers differ in the charset
 * and the trailing newline); Anthropic's request_id is random on each, so it is masked.
 */
async function reply(res: Response): Promise<{ status: number; contentType: string | null; body: string }> {
  const text = await res.text();
  return { status: res.status, contentType: res.headers.get("content-type"), body: text.replace(/"request_id":"req_[0-9a-f]{24}"/, '"request_id":"req_…"') };
}

describe("bodies Ollama refuses before it needs a model", () => {
  test.each(Object.keys(REST))("%s: foreman answers each as the simulator does, byte for byte, without asking the target", async (path) => {
    const key = `POST ${path}`;
    for (const body of [...GENERIC, ...specific(path)]) {
      const direct = await reply(await fetch(`${stack.sim.url}${path}`, { method: "POST", body }));
      const before = stack.sim.counters.requests[key] ?? 0;
      const via = await reply(await fetch(`${stack.url}${path}`, { method: "POST", body }));
      expect({ input: body, ...via }).toEqual({ input: body, ...direct } as never);
      expect(direct.status).toBeGreaterThanOrEqual(400);
      // foreman answered itself, except where Ollama's next check is not the model's existence
      // (embed's input type): that body is queued and the target answers it
      const queued = path.includes("embed") && body.includes('"ghost"') && (body.includes(":5") || body.includes("[1]"));
      expect({ body, asked: (stack.sim.counters.requests[key] ?? 0) - before }).toEqual({ body, asked: queued ? 1 : 0 });
    }
  });

  test("no job rows for what foreman answered itself, and the wording is Ollama's", async () => {
    const res = await fetch(`${stack.url}/api/generate`, { method: "POST", body: "{}" });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "model '' not found" });
    const chat = await fetch(`${stack.url}/api/chat`, { method: "POST", body: '{"model":"llama3.2",' });
    expect(await chat.json()).toEqual({ error: "unexpected EOF" });
    const anthropic = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: "" });
    expect(anthropic.status).toBe(400);
    expect(await anthropic.json()).toEqual({ type: "error", error: { type: "invalid_request_error", message: "EOF" }, request_id: expect.stringMatching(/^req_/) });
  });
});

describe("a model the target does not have", () => {
  test("the ollama client gets Ollama's 404 from foreman for each wording (quoted for chat and generate, 'try pulling it' for embeddings)", async () => {
    for (const [path, body, message] of [
      ["/api/chat", { model: "ghost", messages: [{ role: "user", content: "hi" }] }, "model 'ghost' not found"],
      ["/api/generate", { model: "ghost", prompt: "hi" }, "model 'ghost' not found"],
      ["/api/embed", { model: "ghost", input: "hi" }, 'model "ghost" not found, try pulling it first'],
      ["/api/embeddings", { model: "ghost", prompt: "hi" }, 'model "ghost" not found, try pulling it first'],
    ] as const) {
      const res = await fetch(`${stack.url}${path}`, { method: "POST", body: JSON.stringify(body) });
      expect({ path, status: res.status, body: await res.json() }).toEqual({ path, status: 404, body: { error: message } });
    }
  });

  test("another spelling of a model the target has is found in the last good copy; no /api/tags asked", async () => {
    const tagsBefore = stack.sim.counters.requests["GET /api/tags"] ?? 0;
    const res = await fetch(`${stack.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "registry.ollama.ai/library/LLAMA3.2:latest", prompt: "hi", stream: false }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
    expect(stack.sim.counters.requests["GET /api/tags"] ?? 0).toBe(tagsBefore);
  });

  test("a model pulled since the last poll is found by a fresh /api/tags and queued, not refused", async () => {
    const pulled = await fetch(`${stack.sim.url}/api/pull`, { method: "POST", body: JSON.stringify({ model: "phi3", stream: false }) });
    expect(await pulled.json()).toEqual({ status: "success" });
    expect(stack.foreman.services.poller.lists("phi3")).toBe(false);
    const tagsBefore = stack.sim.counters.requests["GET /api/tags"] ?? 0;
    const res = await fetch(`${stack.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "phi3", prompt: "hi", stream: false }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
    expect(stack.sim.counters.requests["GET /api/tags"] ?? 0).toBeGreaterThan(tagsBefore);
  });

  test("names Ollama does not look up locally are the target's to answer: cloud models go through the queue", async () => {
    const before = stack.sim.counters.requests["POST /api/chat"] ?? 0;
    const res = await fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "ghost:cloud", messages: [{ role: "user", content: "hi" }] }) });
    await res.arrayBuffer();
    expect(stack.sim.counters.requests["POST /api/chat"] ?? 0).toBe(before + 1);
  });
});
