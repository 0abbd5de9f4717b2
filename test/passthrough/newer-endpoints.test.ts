// /v1/responses (the OpenAI Responses API) and /v1/messages (Anthropic's Messages API), which
// Ollama serves: queued like the other inference routes, their named SSE events relayed as
// they come, the same through foreman as directly; foreman's own errors on /v1/messages in
// Anthropic's shape.
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { perTest, sharedStack, waitFor, workerBusy } from "../harness.ts";
import { namedEvents } from "../wire.ts";

const stack = sharedStack({ sim: { tokenDelayMs: 2, loadMs: 5 } });
const clients = () => [new OpenAI({ baseURL: `${stack.sim.url}/v1`, apiKey: "x", maxRetries: 0 }), new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "x", maxRetries: 0 })] as const;

/** What differs between two runs of the same request: random ids and clocks. */
const RANDOM = /"(id|item_id|created_at|completed_at)":("[^"]*"|\d+)|"(resp|msg|rs|fc)_[0-9a-f_]+"/g;
const steady = (text: string) => text.replace(RANDOM, "");

describe("/v1/responses with the openai client", () => {
  test("not streamed: the same response through foreman as directly", async () => {
    const [direct, via] = clients();
    const ask = (c: OpenAI) => c.responses.create({ model: "qwen3:0.6b", input: "why is the sky blue?", instructions: "be brief" });
    const [a, b] = [await ask(direct), await ask(via)];
    expect(b.output_text).toBe(a.output_text);
    expect({ ...b, id: "", created_at: 0, completed_at: 0, output: b.output.map((o) => ({ ...o, id: "" })) }).toEqual({ ...a, id: "", created_at: 0, completed_at: 0, output: a.output.map((o) => ({ ...o, id: "" })) });
    // it ran through the queue
    expect(stack.foreman.services.store.db.query("SELECT count(*) AS n FROM jobs WHERE endpoint = '/v1/responses' AND status = 'done'").get()).toEqual({ n: 1 });
  });

  test("streamed: the same events in the same order, with the same text", async () => {
    const [direct, via] = clients();
    const collect = async (c: OpenAI) => {
      const events: string[] = [];
      let text = "";
      for await (const e of await c.responses.create({ model: "llama3.2", input: "tell me", stream: true })) {
        events.push(e.type);
        if (e.type === "response.output_text.delta") text += e.delta;
      }
      return { events, text };
    };
    const [a, b] = [await collect(direct), await collect(via)];
    expect(b).toEqual(a);
    expect(b.events.at(-1)).toBe("response.completed");
  });

  test("on the wire: named events, byte-for-byte the target's apart from ids and clocks", async () => {
    const body = JSON.stringify({ model: "llama3.2", input: "hi", stream: true });
    const a = await fetch(`${stack.sim.url}/v1/responses`, { method: "POST", body });
    const b = await fetch(`${stack.url}/v1/responses`, { method: "POST", body });
    expect(b.headers.get("content-type")).toBe("text/event-stream");
    expect(b.headers.get("cache-control")).toBe(a.headers.get("cache-control"));
    const [ta, tb] = [await a.text(), await b.text()];
    expect(namedEvents(tb).map((e) => e.event)).toEqual(namedEvents(ta).map((e) => e.event));
    expect(steady(tb)).toBe(steady(ta));
  });
});

describe("/v1/messages (Anthropic's Messages API) with fetch", () => {
  const body = (extra: Record<string, unknown> = {}) => JSON.stringify({ model: "llama3.2", max_tokens: 256, messages: [{ role: "user", content: "hello" }], ...extra });
  const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": "x" };

  test("not streamed: the same message through foreman as directly, with its length", async () => {
    const a = await fetch(`${stack.sim.url}/v1/messages`, { method: "POST", body: body(), headers });
    const b = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: body(), headers });
    expect(b.status).toBe(200);
    expect(b.headers.get("content-type")).toBe(a.headers.get("content-type"));
    expect(b.headers.get("content-length")).toBe(a.headers.get("content-length"));
    expect(steady(await b.text())).toBe(steady(await a.text()));
  });

  test("streamed: message_start … message_stop, the same events and text", async () => {
    const a = await fetch(`${stack.sim.url}/v1/messages`, { method: "POST", body: body({ stream: true }), headers });
    const b = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: body({ stream: true }), headers });
    expect(b.headers.get("content-type")).toBe("text/event-stream");
    const [ea, eb] = [namedEvents(await a.text()), namedEvents(await b.text())];
    expect(eb.map((e) => e.event)).toEqual(ea.map((e) => e.event));
    expect(eb[0]?.event).toBe("message_start");
    expect(eb.at(-1)?.event).toBe("message_stop");
    expect(eb.map((e) => steady(e.raw))).toEqual(ea.map((e) => steady(e.raw)));
  });

  test("the target's own errors pass through as Anthropic's shape", async () => {
    const res = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: body({ model: "qwen2.5-coder:0.5b", tools: [{ name: "x", input_schema: 5 }] }), headers });
    const direct = await fetch(`${stack.sim.url}/v1/messages`, { method: "POST", body: body({ model: "qwen2.5-coder:0.5b", tools: [{ name: "x", input_schema: 5 }] }), headers });
    expect(res.status).toBe(direct.status);
    expect({ ...((await res.json()) as object), request_id: "" }).toEqual({ ...((await direct.json()) as object), request_id: "" });
  });
});

describe("foreman's own errors on /v1/messages are Anthropic's error object", () => {
  const start = perTest();
  const anthropic = (type: string, message: unknown) => ({ type: "error", error: { type, message }, request_id: expect.stringMatching(/^req_[0-9a-f]{24}$/) });
  const body = JSON.stringify({ model: "llama3.2", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });

  test("bad JSON and a missing model", async () => {
    const bad = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: "{nope" });
    expect([bad.status, await bad.json()]).toEqual([400, anthropic("invalid_request_error", "invalid character 'n' looking for beginning of object key string")]);
    const noModel = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: JSON.stringify({ max_tokens: 16, messages: [] }) });
    expect([noModel.status, await noModel.json()]).toEqual([400, anthropic("invalid_request_error", "model is required")]);
    const unknown = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: body.replace("llama3.2", "ghost") });
    expect([unknown.status, await unknown.json()]).toEqual([404, anthropic("not_found_error", "model 'ghost' not found")]);
  });

  test("401 without the token", async () => {
    const stack = await start.stack({ foreman: { token: "s3cret" } });
    const res = await fetch(`${stack.url}/v1/messages`, { method: "POST", body, headers: { "x-api-key": "wrong" } });
    expect([res.status, await res.json()]).toEqual([401, anthropic("authentication_error", expect.stringContaining("unauthorized"))]);
  });

  test("busy: too many waiting is overloaded_error", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 5 }, foreman: { interactiveMaxWaiting: 1 } });
    const abort = new AbortController();
    const running = await fetch(`${stack.url}/v1/messages`, { method: "POST", body: body.replace('"max_tokens":16', '"max_tokens":100000').replace("}]}", '}],"stream":true}'), signal: abort.signal });
    await waitFor(() => workerBusy(stack.foreman), { what: "the worker to run the first request" });
    const waiting = fetch(`${stack.url}/v1/messages`, { method: "POST", body, signal: abort.signal }).catch(() => null);
    await waitFor(() => stack.foreman.services.queue.waitingInteractive() === 1, { what: "one request waiting" });
    const res = await fetch(`${stack.url}/v1/messages`, { method: "POST", body });
    expect([res.status, await res.json()]).toEqual([503, anthropic("overloaded_error", expect.stringContaining("server busy, please try again.  maximum pending requests exceeded"))]);
    abort.abort();
    await running.body?.cancel().catch(() => {});
    await waiting;
  });

  test("a target that stays unreachable past the maximum wait: 503 saying so", async () => {
    const stack = await start.stack({ foreman: { interactiveMaxWaitMs: 300, pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 300 } });
    await stack.sim.setFaults({ asleep: true });
    await waitFor(() => stack.foreman.services.poller.up === false, { what: "the poller to see the target down" });
    const res = await fetch(`${stack.url}/v1/messages`, { method: "POST", body });
    expect([res.status, await res.json()]).toEqual([503, anthropic("overloaded_error", expect.stringContaining("the target is unreachable"))]);
  });
});
