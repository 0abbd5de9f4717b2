import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { BadRequestError, NotFoundError } from "openai";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, post, sseData } from "../wire.ts";

let sim: Simulator;
let openai: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 5, loadMs: 20, maxLoaded: 2 });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(() => sim.stop());

const messages = [{ role: "user" as const, content: "hello" }];

describe("openai client", () => {
  test("chat completion, non-stream", async () => {
    const res = await openai.chat.completions.create({ model: "llama3.2", messages });
    expect(res.object).toBe("chat.completion");
    expect(res.id).toMatch(/^chatcmpl-\d+$/);
    expect(res.system_fingerprint).toBe("fp_ollama");
    expect(res.choices[0]?.finish_reason).toBe("stop");
    expect(res.choices[0]?.message.content?.split(" ")).toHaveLength(12);
    expect(res.usage?.completion_tokens).toBe(12);
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + 12);
  });

  test("chat completion stream with usage, max_tokens → length", async () => {
    const stream = await openai.chat.completions.create({
      model: "llama3.2",
      messages,
      stream: true,
      max_tokens: 4,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(6);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks[1]?.choices[0]?.delta.role).toBeUndefined();
    expect(chunks[4]?.choices[0]?.finish_reason).toBe("length");
    expect(chunks[4]?.choices[0]?.delta).toEqual({});
    expect(chunks[5]?.choices).toEqual([]);
    expect(chunks[5]?.usage?.completion_tokens).toBe(4);
  });

  test("completions, stream and not", async () => {
    const res = await openai.completions.create({ model: "llama3.2", prompt: "once" });
    expect(res.object).toBe("text_completion");
    expect(res.choices[0]?.text.length).toBeGreaterThan(0);
    let text = "";
    let finish: string | null | undefined = null;
    for await (const chunk of await openai.completions.create({ model: "llama3.2", prompt: "once", stream: true })) {
      text += chunk.choices[0]?.text ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(res.choices[0]!.text);
    expect(finish).toBe("stop");
  });

  test("embeddings, float and base64", async () => {
    const res = await openai.embeddings.create({ model: "nomic-embed-text", input: ["a", "b"], encoding_format: "float" });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding).toHaveLength(768);
    const raw = await jsonOf<{ data: Array<{ embedding: string }> }>(
      await post(`${sim.url}/v1/embeddings`, { model: "nomic-embed-text", input: "a", encoding_format: "base64" }),
    );
    const bytes = Buffer.from(raw.data[0]?.embedding ?? "", "base64");
    expect(bytes.length).toBe(768 * 4);
    // The float form is Go's shortest float32 text: it reads back as the same float32.
    expect(Math.fround(res.data[0]!.embedding[0]!)).toBe(bytes.readFloatLE(0));
    // The SDK decodes base64 by default.
    const sdk = await openai.embeddings.create({ model: "nomic-embed-text", input: "a" });
    expect(sdk.data[0]?.embedding[0]).toBe(bytes.readFloatLE(0));
  });

  test("models list and retrieve", async () => {
    const list = await openai.models.list();
    expect(list.data.map((m) => m.id)).toContain("llama3.2:latest");
    expect(list.data[0]?.owned_by).toBe("library");
    const one = await openai.models.retrieve("llama3.2");
    expect(one.id).toBe("llama3.2");
  });

  test("errors are envelopes with the HTTP status", async () => {
    const notFound = await openai.chat.completions.create({ model: "ghost", messages }).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect((notFound as NotFoundError).status).toBe(404);
    expect((notFound as NotFoundError).message).toContain("model 'ghost' not found");
    const empty = await openai.chat.completions.create({ model: "llama3.2", messages: [] }).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(BadRequestError);
    expect(await openai.models.retrieve("ghost").catch((e: unknown) => (e as NotFoundError).status)).toBe(404);
  });
});

describe("raw /v1 framing", () => {
  test("replies and handler errors are json.Encoder output: application/json, ending in a newline", async () => {
    const completion = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages });
    expect(completion.headers.get("content-type")).toBe("application/json");
    expect((await completion.text()).endsWith("}\n")).toBe(true);
    const models = await fetch(`${sim.url}/v1/models`);
    expect((await models.text()).endsWith("}\n")).toBe(true);
    const missing = await post(`${sim.url}/v1/chat/completions`, { model: "ghost", messages });
    expect([missing.status, missing.headers.get("content-type"), await missing.text()]).toEqual([
      404,
      "application/json",
      '{"error":{"message":"model \'ghost\' not found","type":"not_found_error","param":null,"code":null}}\n',
    ]);
  });

  test("stream defaults to false on /v1", async () => {
    const res = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages });
    expect(res.headers.get("content-type")).toBe("application/json");
    expect((await jsonOf(res)).object).toBe("chat.completion");
  });

  test("SSE framing ends with [DONE]", async () => {
    const res = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages, stream: true });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const data = sseData(await res.text());
    expect(data.at(-1)).toBe("[DONE]");
    const finish = JSON.parse(data.at(-2)!);
    expect(Object.keys(finish)).toEqual(["id", "object", "created", "model", "system_fingerprint", "choices"]);
    expect(finish.choices[0].finish_reason).toBe("stop");
  });

  test("completions with include_usage put zero usage on every chunk", async () => {
    const res = await post(`${sim.url}/v1/completions`, { model: "llama3.2", prompt: "p", stream: true, max_tokens: 2, stream_options: { include_usage: true } });
    const data = sseData(await res.text());
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks).toHaveLength(4);
    expect(chunks[0].usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    expect(chunks[2].choices[0].finish_reason).toBe("length");
    expect(chunks[3].choices).toEqual([]);
    expect(chunks[3].usage.completion_tokens).toBe(2);
  });

  test("envelope shape for bad bodies: the middleware's c.JSON (charset, no newline)", async () => {
    const res = await post(`${sim.url}/v1/chat/completions`, "");
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(await res.text()).toBe('{"error":{"message":"EOF","type":"invalid_request_error","param":null,"code":null}}');
    const emb = await post(`${sim.url}/v1/embeddings`, { model: "nomic-embed-text", input: [] });
    expect((await jsonOf<{ error: { message: string } }>(emb)).error.message).toBe("invalid input");
  });
});
