import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { jsonOf, namedEvents, post } from "../wire.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 1, responseTokens: 4 });
});
afterEach(() => sim.setFaults({ errorMidStream: null, busy: false }));
afterAll(() => sim.stop());

const hello = (extra: Record<string, unknown> = {}) => ({ model: "llama3.2", max_tokens: 1024, messages: [{ role: "user", content: "hello" }], ...extra });
const messages = (body: unknown) => post(`${sim.url}/v1/messages`, body, { headers: { "anthropic-version": "2023-06-01" } });

type Message = { id: string; type: string; role: string; model: string; content: Array<Record<string, unknown>>; stop_reason?: string; usage: Record<string, number> };

const weather = { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } };

describe("/v1/messages, not streamed", () => {
  test("a message object in Ollama's field order, json.Encoder's newline", async () => {
    const res = await messages(hello());
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(text.endsWith("}\n")).toBe(true);
    const body = JSON.parse(text) as Message;
    expect(Object.keys(body)).toEqual(["id", "type", "role", "model", "content", "stop_reason", "usage"]);
    expect(body.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(body).toMatchObject({ type: "message", role: "assistant", model: "llama3.2", stop_reason: "end_turn" });
    expect(body.content).toEqual([{ type: "text", text: expect.any(String) }]);
    expect(body.usage).toEqual({ input_tokens: expect.any(Number), output_tokens: 4 });
  });

  test("max_tokens caps the reply: stop_reason max_tokens", async () => {
    const body = await jsonOf<Message>(await messages(hello({ max_tokens: 2 })));
    expect([body.stop_reason, body.usage.output_tokens]).toEqual(["max_tokens", 2]);
  });

  test("thinking: a thinking block first; disabled turns it off; a model without it is not refused", async () => {
    const on = await jsonOf<Message>(await messages(hello({ model: "qwen3:0.6b" })));
    expect(on.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect(Object.keys(on.content[0]!)).toEqual(["type", "thinking"]);
    const off = await jsonOf<Message>(await messages(hello({ model: "qwen3:0.6b", thinking: { type: "disabled" } })));
    expect(off.content.map((b) => b.type)).toEqual(["text"]);
    const relaxed = await messages(hello({ thinking: { type: "enabled", budget_tokens: 1024 } }));
    expect(relaxed.status).toBe(200);
    expect((await jsonOf<Message>(relaxed)).content.map((b) => b.type)).toEqual(["text"]);
  });

  test("tools: a tool_use block and stop_reason tool_use; after a tool_result, text", async () => {
    const first = await jsonOf<Message>(await messages(hello({ tools: [weather] })));
    expect(first.stop_reason).toBe("tool_use");
    const [use] = first.content;
    expect(use).toEqual({ type: "tool_use", id: expect.stringMatching(/^call_[a-z0-9]{8}$/), name: "get_weather", input: { city: expect.any(String) } });
    const second = await jsonOf<Message>(
      await messages(
        hello({
          tools: [weather],
          messages: [
            { role: "user", content: "weather?" },
            { role: "assistant", content: [use] },
            { role: "user", content: [{ type: "tool_result", tool_use_id: use!.id, content: "sunny" }] },
          ],
        }),
      ),
    );
    expect([second.stop_reason, second.content[0]?.type]).toEqual(["end_turn", "text"]);
  });
});

describe("/v1/messages, streamed", () => {
  test("message_start … message_stop, each event line naming its data's type", async () => {
    const res = await messages(hello({ stream: true }));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    const events = namedEvents(await res.text());
    expect(events.map((e) => e.event)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    for (const e of events) expect(e.data.type).toBe(e.event);
    // Struct field order: type first.
    expect(events[0]!.raw.startsWith('{"type":"message_start","message":{"id":"msg_')).toBe(true);
    expect(events[0]!.data.message).toMatchObject({ type: "message", role: "assistant", content: [], usage: { output_tokens: 0 } });
    expect(events[1]!.data).toEqual({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    expect(events[2]!.data).toEqual({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: expect.any(String) } });
    expect(events[7]!.data).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { input_tokens: expect.any(Number), output_tokens: 4 } });
  });

  test("message_start estimates input tokens as Ollama does (bytes / 4)", async () => {
    const events = namedEvents(await (await messages(hello({ stream: true, system: "You answer.", messages: [{ role: "user", content: "x".repeat(40) }] }))).text());
    // "You answer." (11) + "user" (4) + 40 = 55 bytes → 13 tokens.
    expect((events[0]!.data.message as { usage: { input_tokens: number } }).usage.input_tokens).toBe(13);
  });

  test("thinking then text: two blocks, indexes 0 and 1", async () => {
    const events = namedEvents(await (await messages(hello({ model: "qwen3:0.6b", stream: true }))).text());
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data);
    expect(starts).toEqual([
      { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
      { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } },
    ]);
    expect(events.find((e) => e.event === "content_block_delta")?.data.delta).toEqual({ type: "thinking_delta", thinking: expect.any(String) });
  });

  test("a tool call: tool_use start with empty input, one input_json_delta, stop", async () => {
    const events = namedEvents(await (await messages(hello({ stream: true, tools: [weather] }))).text());
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(events[1]!.data.content_block).toEqual({ type: "tool_use", id: expect.stringMatching(/^call_/), name: "get_weather", input: {} });
    const delta = events[2]!.data.delta as { type: string; partial_json: string };
    expect(delta.type).toBe("input_json_delta");
    expect(Object.keys(JSON.parse(delta.partial_json) as object)).toEqual(["city"]);
    expect((events[4]!.data.delta as { stop_reason: string }).stop_reason).toBe("tool_use");
  });

  test("a failure after output started: the stream ends without message_stop", async () => {
    await sim.setFaults({ errorMidStream: { afterChunks: 1, message: "runner crashed" } });
    const events = namedEvents(await (await messages(hello({ stream: true }))).text());
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "content_block_delta"]);
  });
});

describe("/v1/messages errors are Anthropic error objects", () => {
  const anthropicError = (type: string, message: string) => ({ type: "error", error: { type, message }, request_id: expect.stringMatching(/^req_[0-9a-f]{24}$/) });

  test.each([
    ["an empty body", "", "EOF"],
    ["no model", { max_tokens: 10, messages: [{ role: "user", content: "x" }] }, "model is required"],
    ["no max_tokens", { model: "llama3.2", messages: [{ role: "user", content: "x" }] }, "max_tokens is required and must be positive"],
    ["no messages", { model: "llama3.2", max_tokens: 10, messages: [] }, "messages is required"],
    [
      "an image by URL",
      hello({ messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] }] }),
      "invalid image source type: url. Only base64 images are supported.",
    ],
    ["a tool_use without id", hello({ messages: [{ role: "assistant", content: [{ type: "tool_use", name: "f", input: {} }] }] }), "tool_use block missing required 'id' field"],
  ])("%s → the middleware's 400", async (_name, body, message) => {
    const res = await messages(body);
    expect([res.status, res.headers.get("content-type"), await res.json()]).toEqual([400, "application/json; charset=utf-8", anthropicError("invalid_request_error", message)]);
  });

  test("from the handler: not found, and overloaded for the queue-full 503", async () => {
    const missing = await messages(hello({ model: "ghost" }));
    expect([missing.status, missing.headers.get("content-type")]).toEqual([404, "application/json"]);
    const text = await missing.text();
    expect(text.endsWith("}\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(anthropicError("not_found_error", "model 'ghost' not found"));
    await sim.setFaults({ busy: true });
    const busy = await messages(hello());
    expect([busy.status, await busy.json()]).toEqual([503, anthropicError("overloaded_error", "server busy, please try again.  maximum pending requests exceeded")]);
  });
});
