// Broken must look broken: when the target drops the connection or goes silent mid-reply, a
// client of foreman must fail as it would talking to Ollama directly. SSE and non-streamed
// replies are cut off (no terminating chunk, the connection closed) — never a clean end with
// partial text, never a 5xx after the fact; native NDJSON streams end with Ollama's error line.
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { perTest, waitFor } from "../harness.ts";
import { chunk, chunkedHead, rawExchange, startRawTarget, type RawHandler } from "./raw-http.ts";

const started = perTest();

const sseEvent = (content: string) => `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content }, finish_reason: null }] })}\n\n`;
const ndjsonLine = (content: string) => JSON.stringify({ model: "m", created_at: "x", message: { role: "assistant", content }, done: false }) + "\n";
const completion = JSON.stringify({ id: "c", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "a whole answer" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 } });

/** A target that starts each inference reply properly, then drops the connection (or, `silent`, says nothing more). */
function breaksOff(silent = false): RawHandler {
  return (req, socket) => {
    const stream = (JSON.parse(req.body) as { stream?: boolean }).stream;
    const end = () => (silent ? undefined : socket.destroy());
    if (req.path === "/api/pull") {
      socket.write(chunkedHead("application/x-ndjson") + chunk('{"status":"pulling manifest"}\n'));
    } else if (req.path === "/api/chat" && stream !== false) {
      socket.write(chunkedHead("application/x-ndjson") + chunk(ndjsonLine("partial ")) + chunk(ndjsonLine("text")));
    } else if (req.path === "/v1/chat/completions" && stream === true) {
      socket.write(chunkedHead("text/event-stream") + chunk(sseEvent("partial ")) + chunk(sseEvent("text")));
    } else {
      // a non-streamed reply that announces its length and delivers half of it
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${completion.length}\r\n\r\n${completion.slice(0, completion.length / 2)}`);
    }
    setTimeout(end, 20);
  };
}

const rawPost = (path: string, body: unknown) => {
  const text = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${text.length}\r\n\r\n${text}`;
};
const messages = [{ role: "user" as const, content: "hi" }];

async function start(silent = false) {
  const target = await startRawTarget(breaksOff(silent));
  started.defer(() => target.stop());
  const foreman = await started.foreman({ target: target.url, idleTimeoutMs: 300, pollIntervalMs: 3_600_000 });
  return { target, foreman };
}

describe("a target that drops the connection mid-reply", () => {
  test("SSE through foreman: the events that came, then the connection cut without a terminating chunk", async () => {
    const { foreman } = await start();
    const reply = await rawExchange(foreman.port, rawPost("/v1/chat/completions", { model: "m", messages, stream: true }));
    expect(reply.status).toBe(200);
    expect(reply.headers["transfer-encoding"]).toBe("chunked");
    expect(reply.body).toBe(sseEvent("partial ") + sseEvent("text"));
    expect(reply.terminated).toBe(false);
    expect(reply.closed).toBe(true);
  });

  test("a non-streamed reply through foreman: cut off the same way, not a clean end nor a 5xx", async () => {
    const { foreman } = await start();
    for (const [path, body] of [
      ["/v1/chat/completions", { model: "m", messages }],
      ["/api/chat", { model: "m", messages, stream: false }],
    ] as const) {
      const reply = await rawExchange(foreman.port, rawPost(path, body));
      expect(reply.status).toBe(200);
      expect(reply.terminated).toBe(false);
      expect(reply.closed).toBe(true);
      expect(completion.startsWith(reply.body)).toBe(true);
    }
  });

  test("a native NDJSON stream keeps Ollama's ending: an {\"error\"} line, then a proper end", async () => {
    const { foreman } = await start();
    const reply = await rawExchange(foreman.port, rawPost("/api/chat", { model: "m", messages }));
    expect(reply.terminated).toBe(true);
    const lines = reply.body.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({ error: expect.stringContaining("mid-stream") });
    expect(lines.some((l) => l.done === true)).toBe(false);
  });

  test("the openai client throws through foreman as it does talking to the target directly, streamed or not", async () => {
    const { target, foreman } = await start();
    for (const base of [target.url, foreman.url]) {
      const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: "unused", maxRetries: 0 });
      const streamed = async () => {
        let text = "";
        for await (const part of await client.chat.completions.create({ model: "m", messages, stream: true })) text += part.choices[0]?.delta.content ?? "";
        return text;
      };
      await expect(streamed(), `streamed via ${base}`).rejects.toThrow();
      await expect(client.chat.completions.create({ model: "m", messages }).withResponse().then((r) => `${r.response.status} ${JSON.stringify(r.data)}`), `non-streamed via ${base === target.url ? "the target" : "foreman"}`).rejects.toThrow();
    }
    // no retry ran the inference twice: one request per call reached the target
    expect(target.seen.filter((l) => l === "POST /v1/chat/completions")).toHaveLength(4);
    // and foreman recorded both as failed, not done
    const statuses = () => (foreman.services.store.db.query("SELECT status FROM jobs WHERE lane = 0 ORDER BY id").all() as { status: string }[]).map((r) => r.status);
    await waitFor(() => statuses().every((s) => s === "failed" || s === "done") && statuses(), { what: "both passthrough requests to end" });
    expect(statuses()).toEqual(["failed", "failed"]);
  });
});

describe("a direct route's streamed reply", () => {
  test("a pull progress stream the target breaks off is cut off as well", async () => {
    const { foreman } = await start();
    const reply = await rawExchange(foreman.port, rawPost("/api/pull", { model: "m" }));
    expect([reply.status, reply.body, reply.terminated, reply.closed]).toEqual([200, '{"status":"pulling manifest"}\n', false, true]);
  });
});

describe("a target that goes silent mid-reply", () => {
  test("SSE and non-streamed replies are cut off after the idle timeout", async () => {
    const { foreman } = await start(true);
    for (const body of [{ model: "m", messages, stream: true }, { model: "m", messages }]) {
      const reply = await rawExchange(foreman.port, rawPost("/v1/chat/completions", body));
      expect(reply.status).toBe(200);
      expect(reply.terminated).toBe(false);
      expect(reply.closed).toBe(true);
    }
  });
});
