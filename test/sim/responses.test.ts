import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import OpenAI, { BadRequestError, NotFoundError } from "openai";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, namedEvents, post } from "../wire.ts";

let sim: Simulator;
let openai: OpenAI;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 1, responseTokens: 4 });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
});
afterEach(() => sim.setFaults({ errorMidStream: null }));
afterAll(() => sim.stop());

const RESPONSE_KEYS = [
  "id",
  "object",
  "created_at",
  "completed_at",
  "status",
  "incomplete_details",
  "model",
  "previous_response_id",
  "instructions",
  "output",
  "error",
  "tools",
  "tool_choice",
  "truncation",
  "parallel_tool_calls",
  "text",
  "top_p",
  "presence_penalty",
  "frequency_penalty",
  "top_logprobs",
  "temperature",
  "reasoning",
  "usage",
  "max_output_tokens",
  "max_tool_calls",
  "store",
  "background",
  "service_tier",
  "metadata",
  "safety_identifier",
  "prompt_cache_key",
];

const tool = { type: "function" as const, name: "lookup", description: "Look it up", strict: false, parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } };

describe("/v1/responses, not streamed", () => {
  test("the openai client gets a completed response with its text", async () => {
    const res = await openai.responses.create({ model: "llama3.2", input: "hello", instructions: "be brief" });
    expect(res.object).toBe("response");
    expect(res.status).toBe("completed");
    expect(res.id).toMatch(/^resp_\d+$/);
    expect(res.output_text.split(" ")).toHaveLength(4);
    expect(res.instructions).toBe("be brief");
    expect(res.usage?.output_tokens).toBe(4);
    expect(res.usage?.total_tokens).toBe((res.usage?.input_tokens ?? 0) + 4);
  });

  test("wire shape: struct key order, json.Encoder's newline, Ollama's defaults echoed", async () => {
    const res = await post(`${sim.url}/v1/responses`, { model: "llama3.2", input: [{ role: "user", content: "hi" }], temperature: 0.5, max_output_tokens: 2 });
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(text.endsWith("}\n")).toBe(true);
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(RESPONSE_KEYS);
    expect(body).toMatchObject({
      tools: [],
      tool_choice: "auto",
      truncation: "disabled",
      text: { format: { type: "text" } },
      top_p: 1,
      temperature: 0.5,
      max_output_tokens: 2,
      reasoning: null,
      store: false,
      service_tier: "default",
      metadata: {},
      usage: { output_tokens: 2, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } },
    });
    const [item] = body.output as Array<Record<string, unknown>>;
    expect(Object.keys(item!)).toEqual(["id", "type", "status", "role", "content"]);
    expect(item!.id).toMatch(/^msg_\d+$/);
    expect(item!.content).toEqual([{ type: "output_text", text: expect.any(String), annotations: [], logprobs: [] }]);
  });

  test("thinking becomes a reasoning item before the message", async () => {
    const body = await jsonOf<{ id: string; output: Array<Record<string, unknown>> }>(await post(`${sim.url}/v1/responses`, { model: "qwen3:0.6b", input: "why" }));
    expect(body.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    const reasoning = body.output[0]!;
    expect(reasoning.id).toBe(`rs_${body.id}`);
    expect(reasoning.summary).toEqual([{ type: "summary_text", text: reasoning.encrypted_content }]);
  });

  test("tools: function_call items; a function_call_output gets a text answer", async () => {
    const res = await openai.responses.create({ model: "llama3.2", input: "find cats", tools: [tool] });
    const call = res.output[0] as { type: string; id: string; status: string; call_id: string; name: string; arguments: string };
    expect(call).toMatchObject({ type: "function_call", id: `fc_${res.id}_0`, status: "completed", name: "lookup" });
    expect(Object.keys(JSON.parse(call.arguments) as object)).toEqual(["q"]);
    expect(res.tools).toEqual([{ type: "function", name: "lookup", description: "Look it up", strict: false, parameters: tool.parameters }]);
    const next = await openai.responses.create({
      model: "llama3.2",
      tools: [tool],
      input: [
        { role: "user", content: "find cats" },
        { type: "function_call", call_id: call.call_id, name: "lookup", arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: "3 cats" },
      ],
    });
    expect(next.output[0]?.type).toBe("message");
    expect(next.output_text.length).toBeGreaterThan(0);
  });
});

describe("/v1/responses, streamed", () => {
  test("named events in Ollama's order, each event line naming its data's type", async () => {
    const res = await post(`${sim.url}/v1/responses`, { model: "llama3.2", input: "hello", stream: true });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const events = namedEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    events.forEach((e, i) => {
      expect(e.data.type).toBe(e.event);
      expect(e.data.sequence_number).toBe(i);
      // Go maps: keys sorted at every level.
      expect(Object.keys(e.data)).toEqual(Object.keys(e.data).sort());
    });
    const deltas = events.filter((e) => e.event === "response.output_text.delta").map((e) => e.data.delta).join("");
    expect(events[8]?.data.text).toBe(deltas);
    const completed = events.at(-1)!.data.response as Record<string, unknown>;
    expect(Object.keys(completed)).toEqual([...Object.keys(completed)].sort());
    expect(completed.status).toBe("completed");
    expect(completed.usage).toEqual({ input_tokens: expect.any(Number), input_tokens_details: { cached_tokens: 0 }, output_tokens: 4, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: expect.any(Number) });
    expect((events[0]!.data.response as Record<string, unknown>).usage).toBeNull();
  });

  test("the openai client's stream: reasoning summary deltas, then text, then the completed response", async () => {
    const types: string[] = [];
    let text = "";
    let final: OpenAI.Responses.Response | undefined;
    for await (const event of await openai.responses.create({ model: "qwen3:0.6b", input: "why", stream: true })) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") final = event.response;
    }
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.reasoning_summary_text.delta"]);
    expect(types).toContain("response.reasoning_summary_text.done");
    expect(types.at(-1)).toBe("response.completed");
    expect(final?.output.map((o) => o.type)).toEqual(["reasoning", "message"]);
    const message = final?.output[1];
    expect(message?.type === "message" && message.content[0]?.type === "output_text" ? message.content[0].text : undefined).toBe(text);
  });

  test("a tool call streams as function_call events", async () => {
    const events = namedEvents(await (await post(`${sim.url}/v1/responses`, { model: "llama3.2", input: "find", tools: [tool], stream: true })).text());
    expect(events.map((e) => e.event)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events[2]?.data.item).toMatchObject({ type: "function_call", status: "in_progress", arguments: "", name: "lookup" });
    expect(events[5]?.data.item).toMatchObject({ type: "function_call", status: "completed", arguments: events[3]?.data.delta });
  });

  test("a failure after output started: the stream just ends, no response.completed", async () => {
    await sim.setFaults({ errorMidStream: { afterChunks: 2, message: "runner crashed" } });
    const res = await post(`${sim.url}/v1/responses`, { model: "llama3.2", input: "x", stream: true });
    const events = namedEvents(await res.text());
    expect(res.status).toBe(200);
    expect(events.at(-1)?.event).toBe("response.output_text.delta");
    expect(events.map((e) => e.event)).not.toContain("response.completed");
  });
});

describe("/v1/responses errors are OpenAI envelopes", () => {
  test("unknown model: the handler's 404", async () => {
    const err = await openai.responses.create({ model: "ghost", input: "x" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).message).toContain("model 'ghost' not found");
  });

  test.each([
    ["an unknown input item", { input: [{ type: "bogus" }] }, 'input[0]: unknown input item type: "bogus"'],
    ["an item with neither type nor role", { input: [{ content: "x" }] }, "input[0]: input item missing required 'type' field"],
    ["an unknown content type", { input: [{ role: "user", content: [{ type: "input_text", text: "a" }, { type: "input_video" }] }] }, "input[0]: content[1]: unknown content type: input_video"],
    ["a file", { input: [{ role: "user", content: [{ type: "input_file", file_id: "f" }] }] }, "file inputs are not currently supported"],
    ["an image URL", { input: [{ role: "user", content: [{ type: "input_image", detail: "auto", image_url: "https://x/y.png" }] }] }, "image URLs are not currently supported, please use base64 encoded data instead"],
    ["a bad effort", { input: "x", reasoning: { effort: "huge" } }, 'invalid reasoning value: "huge" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")'],
    ["a boolean input (Go names its kind bool)", { input: true }, "input must be a string or array: json: cannot unmarshal bool into Go value of type []json.RawMessage"],
    ["broken call arguments", { input: [{ type: "function_call", call_id: "c", name: "f", arguments: "{x" }] }, "failed to parse function call arguments: invalid character 'x' looking for beginning of object key string"],
  ])("%s → the middleware's 400", async (_name, extra, message) => {
    const res = await post(`${sim.url}/v1/responses`, { model: "llama3.2", ...extra });
    expect([res.status, res.headers.get("content-type"), await res.json()]).toEqual([
      400,
      "application/json; charset=utf-8",
      { error: { message, type: "invalid_request_error", param: null, code: null } },
    ]);
  });

  test("think on a model without it comes back from the handler", async () => {
    const err = await openai.responses.create({ model: "llama3.2", input: "x", reasoning: { effort: "high" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).message).toContain('"llama3.2" does not support thinking');
  });
});
