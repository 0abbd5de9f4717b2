import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI, { BadRequestError } from "openai";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, post } from "../wire.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 1, responseTokens: 3 });
});
afterAll(() => sim.stop());

const user = (content: unknown) => [{ role: "user", content }];

/** Status, Content-Type and decoded body of a reply. */
async function outcome(res: Response): Promise<[number, string | null, unknown]> {
  return [res.status, res.headers.get("content-type"), await res.json()];
}

const envelope = (message: string, type = "invalid_request_error") => ({ error: { message, type, param: null, code: null } });

describe("top_logprobs must be 0..20", () => {
  test.each([
    ["chat, 21", "/api/chat", { model: "llama3.2", messages: user("x"), top_logprobs: 21 }],
    ["chat, -1", "/api/chat", { model: "llama3.2", messages: user("x"), top_logprobs: -1 }],
    ["generate, 25", "/api/generate", { model: "llama3.2", prompt: "x", top_logprobs: 25 }],
    ["generate, before the model is looked up", "/api/generate", { model: "ghost", prompt: "x", top_logprobs: 25 }],
  ])("%s → 400", async (_name, path, body) => {
    expect(await outcome(await post(`${sim.url}${path}`, body))).toEqual([400, "application/json; charset=utf-8", { error: "top_logprobs must be between 0 and 20" }]);
  });

  test("on /v1 the native handler's 400 comes back as an envelope", async () => {
    const chat = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: user("x"), top_logprobs: 30 });
    expect(await outcome(chat)).toEqual([400, "application/json", envelope("top_logprobs must be between 0 and 20")]);
    const completion = await post(`${sim.url}/v1/completions`, { model: "llama3.2", prompt: "x", logprobs: 21 });
    expect(await outcome(completion)).toEqual([400, "application/json", envelope("top_logprobs must be between 0 and 20")]);
    expect((await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: user("x"), top_logprobs: 20 })).status).toBe(200);
  });
});

describe("suffix needs the insert capability", () => {
  test("without it: 400 naming the model in full", async () => {
    const res = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "def f(", suffix: "return x" });
    expect(await outcome(res)).toEqual([400, "application/json; charset=utf-8", { error: "registry.ollama.ai/library/llama3.2:latest does not support insert" }]);
    const v1 = await post(`${sim.url}/v1/completions`, { model: "llama3.2", prompt: "def f(", suffix: "return x" });
    expect(await outcome(v1)).toEqual([400, "application/json", envelope("registry.ollama.ai/library/llama3.2:latest does not support insert")]);
  });

  test("with it: a completion", async () => {
    const res = await new Ollama({ host: sim.url }).generate({ model: "qwen2.5-coder:0.5b", prompt: "def f(", suffix: "return x" });
    expect(res.done_reason).toBe("stop");
    expect(res.response?.length).toBeGreaterThan(0);
  });
});

describe("images on /v1 (openai.decodeImageURL)", () => {
  const image = (url: unknown, shape: "object" | "string" = "object") =>
    user([{ type: "text", text: "what is this?" }, { type: "image_url", image_url: shape === "object" ? { url } : url }]);
  const png = `data:image/png;base64,${Buffer.from("not really a png").toString("base64")}`;

  test("an http(s) URL is refused by the middleware", async () => {
    for (const url of ["https://example.com/cat.png", "http://example.com/cat.png"]) {
      const res = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: image(url) });
      expect(await outcome(res)).toEqual([
        400,
        "application/json; charset=utf-8",
        envelope("image URLs are not currently supported, please use base64 encoded data instead"),
      ]);
    }
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
    const err = await openai.chat.completions
      .create({ model: "llama3.2", messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/x.png" } }] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
  });

  test("a base64 data URL of a supported type is accepted, in either shape", async () => {
    expect((await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: image(png) })).status).toBe(200);
    expect((await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: image(png, "string") })).status).toBe(200);
    expect((await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: image("data:;base64,AAAA") })).status).toBe(200);
  });

  test.each([
    ["an unsupported type", "data:image/gif;base64,R0lGODlh"],
    ["bad base64", "data:image/png;base64,***"],
    ["no data URL at all", "cat.png"],
  ])("%s → invalid image input", async (_name, url) => {
    const res = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: image(url) });
    expect(await outcome(res)).toEqual([400, "application/json; charset=utf-8", envelope("invalid image input")]);
  });

  test("malformed parts and content types", async () => {
    const cases: Array<[unknown, string]> = [
      [[{ type: "video", url: "x" }], "invalid message format"],
      [[{ type: "text", text: 5 }], "invalid message format"],
      [["just a string"], "invalid message format"],
      [[{ type: "image_url", image_url: { url: 5 } }], "invalid message format"],
      [null, "invalid message content type: <nil>"],
      [5, "invalid message content type: float64"],
      [{ text: "x" }, "invalid message content type: map[string]interface {}"],
    ];
    for (const [content, message] of cases) {
      const res = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: user(content) });
      expect(await outcome(res)).toEqual([400, "application/json; charset=utf-8", envelope(message)]);
    }
  });
});

describe("embedding input longer than the context", () => {
  const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");

  test("truncate:false is Ollama's 400 (after the load)", async () => {
    const res = await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: long, truncate: false, options: { num_ctx: 16 } });
    expect(await outcome(res)).toEqual([400, "application/json; charset=utf-8", { error: "the input length exceeds the context length" }]);
    const fits = await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: "short text", truncate: false, options: { num_ctx: 16 } });
    expect(fits.status).toBe(200);
  });

  test("by default the input is cut to the context: prompt_eval_count stops at num_ctx", async () => {
    const res = await jsonOf<{ prompt_eval_count: number; embeddings: number[][] }>(
      await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: long, options: { num_ctx: 16 } }),
    );
    expect(res.prompt_eval_count).toBe(16);
    const cut = await jsonOf<{ embeddings: number[][] }>(
      await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: long.split(" ").slice(0, 14).join(" "), options: { num_ctx: 16 } }),
    );
    expect(res.embeddings[0]).toEqual(cut.embeddings[0]!);
  });

  test("the training context bounds it too (nomic-embed-text: 2048)", async () => {
    const huge = Array.from({ length: 3000 }, () => "w").join(" ");
    const res = await post(`${sim.url}/api/embed`, { model: "nomic-embed-text", input: huge, truncate: false, options: { num_ctx: 8192 } });
    expect(res.status).toBe(400);
  });
});

describe("decode-time 400s of the /v1 middlewares", () => {
  test("wrong types and stop entries", async () => {
    const stream = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: user("x"), temperature: "hot" });
    expect(await outcome(stream)).toEqual([
      400,
      "application/json; charset=utf-8",
      envelope("json: cannot unmarshal string into Go struct field ChatCompletionRequest.temperature of type float64"),
    ]);
    const stop = await post(`${sim.url}/v1/completions`, { model: "llama3.2", prompt: "x", stop: ["a", 1] });
    expect(await outcome(stop)).toEqual([400, "application/json; charset=utf-8", envelope("invalid type for 'stop' field: float64")]);
    const args = await post(`${sim.url}/v1/chat/completions`, {
      model: "llama3.2",
      messages: [{ role: "assistant", content: "", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "not json" } }] }],
    });
    expect(await outcome(args)).toEqual([400, "application/json; charset=utf-8", envelope("invalid tool call arguments")]);
  });

  test("/v1/embeddings: encoding_format and input", async () => {
    const format = await post(`${sim.url}/v1/embeddings`, { model: "nomic-embed-text", input: "x", encoding_format: "int8" });
    expect(await outcome(format)).toEqual([
      400,
      "application/json; charset=utf-8",
      envelope("Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64']."),
    ]);
    expect((await post(`${sim.url}/v1/embeddings`, { model: "nomic-embed-text", input: "x", encoding_format: "BASE64" })).status).toBe(200);
    const number = await post(`${sim.url}/v1/embeddings`, { model: "nomic-embed-text", input: 5 });
    expect(await outcome(number)).toEqual([400, "application/json", envelope("invalid input type")]);
  });
});
