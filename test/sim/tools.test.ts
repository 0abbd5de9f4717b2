import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI, { BadRequestError } from "openai";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, ndjson, post, sseData } from "../wire.ts";

let sim: Simulator;
let ollama: Ollama;
let openai: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({
    port: 0,
    tokenDelayMs: 1,
    loadMs: 1,
    responseTokens: 6,
    models: [
      { name: "llama3.2", capabilities: ["completion", "tools"] },
      { name: "qwen3:0.6b", family: "qwen3", capabilities: ["completion", "tools", "thinking"] },
      { name: "tiny", capabilities: ["completion"] },
    ],
  });
  ollama = new Ollama({ host: sim.url });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
});
afterAll(() => sim.stop());

const weather = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer" },
        note: { type: "string" },
      },
      required: ["city", "unit", "days"],
    },
  },
};
const ask = [{ role: "user", content: "weather in Paris?" }];

type NativeCall = { id: string; function: { index: number; name: string; arguments: Record<string, unknown> } };

describe("tool calls, native", () => {
  test("stream:false: the model calls the tool with its required arguments, in schema order", async () => {
    const res = await jsonOf<{ message: Record<string, unknown>; done_reason: string }>(
      await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: ask, tools: [weather], stream: false }),
    );
    expect(Object.keys(res.message)).toEqual(["role", "content", "tool_calls"]);
    expect(res.message.content).toBe("");
    const [call] = res.message.tool_calls as NativeCall[];
    expect(call?.id).toMatch(/^call_[a-z0-9]{8}$/);
    expect(call?.function.index).toBe(0);
    expect(call?.function.name).toBe("get_weather");
    expect(Object.keys(call!.function.arguments)).toEqual(["city", "unit", "days"]);
    expect(["celsius", "fahrenheit"]).toContain(call!.function.arguments.unit as string);
    expect(Number.isInteger(call!.function.arguments.days)).toBe(true);
    expect(res.done_reason).toBe("stop");
  });

  test("deterministic: the same request gets the same call, id included", async () => {
    const body = { model: "llama3.2", messages: ask, tools: [weather], stream: false };
    const a = await jsonOf(await post(`${sim.url}/api/chat`, body));
    const b = await jsonOf(await post(`${sim.url}/api/chat`, body));
    expect(a.message).toEqual(b.message);
  });

  test("streamed: one chunk carries the call (content empty), then the done chunk", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: ask, tools: [weather] })).text());
    expect(lines).toHaveLength(2);
    expect(lines[0]?.message).toEqual({ role: "assistant", content: "", tool_calls: expect.any(Array) });
    expect(lines[1]).toMatchObject({ done: true, done_reason: "stop", message: { role: "assistant", content: "" } });
    expect((lines[1]?.eval_count as number) > 1).toBe(true);
  });

  test("ollama-js sees message.tool_calls; after the tool's result the model answers in text", async () => {
    const first = await ollama.chat({ model: "llama3.2", messages: ask, tools: [weather] });
    const call = first.message.tool_calls?.[0];
    expect(call?.function.name).toBe("get_weather");
    const second = await ollama.chat({
      model: "llama3.2",
      messages: [...ask, first.message, { role: "tool", content: "18 degrees", tool_name: "get_weather" }],
      tools: [weather],
    });
    expect(second.message.tool_calls).toBeUndefined();
    expect(second.message.content.length).toBeGreaterThan(0);
  });

  test("a model without the tools capability: Ollama's 400 with the full model name", async () => {
    const res = await post(`${sim.url}/api/chat`, { model: "tiny", messages: ask, tools: [weather] });
    expect([res.status, await res.json()]).toEqual([400, { error: "registry.ollama.ai/library/tiny:latest does not support tools" }]);
  });
});

describe("thinking, native", () => {
  test("a thinking model thinks by default: thinking chunks first, content empty in them", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/chat`, { model: "qwen3:0.6b", messages: ask })).text());
    const thinking = lines.filter((l) => (l.message as { thinking?: string }).thinking);
    expect(thinking.length).toBe(3);
    expect(Object.keys(thinking[0]!.message as object)).toEqual(["role", "content", "thinking"]);
    expect((thinking[0]!.message as { content: string }).content).toBe("");
    const firstContent = lines.findIndex((l) => (l.message as { content: string }).content !== "");
    expect(firstContent).toBe(3);
    expect(lines.at(-1)?.eval_count).toBe(9);
  });

  test("stream:false gathers thinking and content; think:false turns thinking off", async () => {
    const on = await ollama.chat({ model: "qwen3:0.6b", messages: ask });
    expect(on.message.thinking?.split(" ").length).toBe(3);
    expect(on.message.content.split(" ").length).toBe(6);
    const off = await ollama.chat({ model: "qwen3:0.6b", messages: ask, think: false });
    expect(off.message.thinking).toBeUndefined();
    const level = await ollama.chat({ model: "qwen3:0.6b", messages: ask, think: "low" });
    expect(level.message.thinking).toBe(on.message.thinking!);
  });

  test("generate: `thinking` after `response`", async () => {
    const lines = ndjson(await (await post(`${sim.url}/api/generate`, { model: "qwen3:0.6b", prompt: "why?" })).text());
    expect(Object.keys(lines[0]!)).toEqual(["model", "created_at", "response", "thinking", "done"]);
    expect(lines[0]?.response).toBe("");
    const whole = await ollama.generate({ model: "qwen3:0.6b", prompt: "why?" });
    expect(whole.thinking?.length).toBeGreaterThan(0);
    expect(whole.response?.length).toBeGreaterThan(0);
  });

  test("thinking and tools together: thinking, then the call", async () => {
    const res = await ollama.chat({ model: "qwen3:0.6b", messages: ask, tools: [weather] });
    expect(res.message.thinking?.length).toBeGreaterThan(0);
    expect(res.message.tool_calls).toHaveLength(1);
  });

  test("think on a model without the capability is 400, before the completion check", async () => {
    const res = await post(`${sim.url}/api/generate`, { model: "tiny", prompt: "x", think: true });
    expect([res.status, await res.json()]).toEqual([400, { error: '"tiny" does not support thinking' }]);
  });
});

describe("tool calls and reasoning, OpenAI dialect", () => {
  test("non-stream: tool_calls with arguments as a JSON string, finish_reason tool_calls", async () => {
    const res = await openai.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "weather?" }], tools: [weather] });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const call = choice.message.tool_calls?.[0];
    expect(call).toMatchObject({ type: "function", id: expect.stringMatching(/^call_[a-z0-9]{8}$/), function: { name: "get_weather" } });
    const args = JSON.parse((call as { function: { arguments: string } }).function.arguments) as Record<string, unknown>;
    expect(Object.keys(args)).toEqual(["city", "unit", "days"]);
    expect(choice.message.content).toBe("");
  });

  test("the same call in the native and OpenAI dialects", async () => {
    const native = await jsonOf<{ message: { tool_calls: NativeCall[] } }>(
      await post(`${sim.url}/api/chat`, { model: "llama3.2", messages: ask, tools: [weather], stream: false }),
    );
    const raw = await jsonOf<{ choices: Array<{ message: { tool_calls: Array<Record<string, unknown>> } }> }>(
      await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: ask, tools: [weather] }),
    );
    const nativeCall = native.message.tool_calls[0]!;
    expect(raw.choices[0]?.message.tool_calls).toEqual([
      { id: nativeCall.id, index: 0, type: "function", function: { name: "get_weather", arguments: JSON.stringify(nativeCall.function.arguments) } },
    ]);
  });

  test("streamed: a delta with the call, then the finish chunk says tool_calls", async () => {
    const stream = await openai.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "weather?" }], tools: [weather], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(2);
    expect(chunks[0]?.choices[0]?.delta).toMatchObject({ role: "assistant", content: "", tool_calls: [{ index: 0, type: "function" }] });
    expect(chunks[1]?.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: "tool_calls" });
  });

  test("reasoning: message.reasoning non-streamed, delta.reasoning streamed (content kept as \"\")", async () => {
    const whole = await jsonOf<{ choices: Array<{ message: Record<string, unknown> }> }>(
      await post(`${sim.url}/v1/chat/completions`, { model: "qwen3:0.6b", messages: ask }),
    );
    expect(Object.keys(whole.choices[0]!.message)).toEqual(["role", "content", "reasoning"]);
    const data = sseData(await (await post(`${sim.url}/v1/chat/completions`, { model: "qwen3:0.6b", messages: ask, stream: true })).text());
    const first = JSON.parse(data[0]!) as { choices: Array<{ delta: Record<string, unknown> }> };
    expect(first.choices[0]?.delta).toEqual({ role: "assistant", content: "", reasoning: expect.any(String) });
    const reasoning = data
      .slice(0, -1)
      .map((d) => (JSON.parse(d) as { choices: Array<{ delta: { reasoning?: string } }> }).choices[0]?.delta.reasoning ?? "")
      .join("");
    expect(reasoning).toBe(whole.choices[0]!.message.reasoning as string);
  });

  test("reasoning_effort maps to think: none turns it off; a non-thinking model refuses others", async () => {
    const off = await jsonOf<{ choices: Array<{ message: Record<string, unknown> }> }>(
      await post(`${sim.url}/v1/chat/completions`, { model: "qwen3:0.6b", messages: ask, reasoning_effort: "none" }),
    );
    expect(off.choices[0]?.message.reasoning).toBeUndefined();
    const refused = await openai.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "x" }], reasoning_effort: "low" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BadRequestError);
    expect((refused as BadRequestError).message).toContain('"llama3.2" does not support thinking');
    const nested = await post(`${sim.url}/v1/chat/completions`, { model: "llama3.2", messages: ask, reasoning: { effort: "xhigh" } });
    expect(nested.status).toBe(400);
    const bad = await post(`${sim.url}/v1/chat/completions`, { model: "qwen3:0.6b", messages: ask, reasoning_effort: "extreme" });
    expect([bad.status, bad.headers.get("content-type"), await bad.json()]).toEqual([
      400,
      "application/json; charset=utf-8",
      {
        error: {
          message: 'invalid reasoning value: "extreme" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")',
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      },
    ]);
  });

  test("tools on a model without the capability: the envelope carries Ollama's text", async () => {
    const res = await post(`${sim.url}/v1/chat/completions`, { model: "tiny", messages: ask, tools: [weather] });
    expect([res.status, (await jsonOf<{ error: { message: string } }>(res)).error.message]).toEqual([400, "registry.ollama.ai/library/tiny:latest does not support tools"]);
  });
});
