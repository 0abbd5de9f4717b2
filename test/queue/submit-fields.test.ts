// POST /jobs refuses a request its endpoint cannot use with a 422 naming the field — a chat
// with a prompt and no messages used to be accepted and end "done" with an empty answer — and
// accepts Ollama's load idiom when it is stated explicitly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startStack, type Stack } from "../harness.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, responseTokens: 2 } });
});
afterAll(() => stack.stop());

interface Reply {
  status: number;
  body: { status?: string; error?: { status: number; message: string; field?: string } };
}

async function submit(endpoint: string, request: Record<string, unknown>, prefer?: string): Promise<Reply> {
  const res = await fetch(`${stack.url}/jobs`, { method: "POST", headers: { "content-type": "application/json", ...(prefer ? { prefer } : {}) }, body: JSON.stringify({ endpoint, request }) });
  return { status: res.status, body: (await res.json()) as Reply["body"] };
}

describe("a request its endpoint cannot use is a 422 naming the field", () => {
  test.each([
    ["/api/chat", { model: "llama3.2", prompt: "a chat has no prompt" }, "/request/messages"],
    ["/api/chat", { model: "llama3.2", messages: "hi" }, "/request/messages"],
    ["/api/chat", { messages: [{ role: "user", content: "hi" }] }, "/request/model"],
    ["/api/generate", { model: "llama3.2" }, "/request/prompt"],
    ["/api/generate", { model: "llama3.2", messages: [{ role: "user", content: "hi" }] }, "/request/prompt"],
    ["/api/embed", { model: "nomic-embed-text", prompt: "embed has input" }, "/request/input"],
    ["/api/embed", { model: "nomic-embed-text", input: [1, 2] }, "/request/input"],
    ["/api/embeddings", { model: "nomic-embed-text", input: "embeddings has a prompt" }, "/request/prompt"],
    ["/v1/chat/completions", { model: "llama3.2", prompt: "hi" }, "/request/messages"],
    ["/v1/chat/completions", { model: "llama3.2", messages: [] }, "/request/messages"],
    ["/v1/completions", { model: "llama3.2", messages: [{ role: "user", content: "hi" }] }, "/request/prompt"],
    ["/v1/embeddings", { model: "nomic-embed-text" }, "/request/input"],
  ] as const)("%s with %j: 422 on %s", async (endpoint, request, field) => {
    const { status, body } = await submit(endpoint, request);
    expect(status).toBe(422);
    expect(body.error).toEqual({ status: 422, message: expect.stringMatching(new RegExp(`^${field}: `)), field });
  });

  test("nothing refused was stored", () => {
    expect(stack.foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs").get()).toEqual({ n: 0 });
  });
});

describe("the load idiom, stated explicitly, is accepted and runs", () => {
  test.each([
    ["/api/chat", { model: "llama3.2", messages: [] }],
    ["/api/generate", { model: "llama3.2", prompt: "" }],
    ["/api/embed", { model: "nomic-embed-text", input: [] }],
    ["/api/embeddings", { model: "nomic-embed-text", prompt: "" }],
  ] as const)("%s with %j", async (endpoint, request) => {
    const { status, body } = await submit(endpoint, request, "wait=30");
    expect([status, body.status]).toEqual([200, "done"]);
  });
});
