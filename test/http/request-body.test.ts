// Request bodies from clients that misbehave: one that goes away mid-body is its own doing (a
// 499 in the metrics, a debug line, never a 500 or an error-level log), and one that trickles
// its body is cut off at the body deadline while long replies and long queue waits are not.
import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config.ts";
import { createLogger } from "../../src/ops/log.ts";
import { startStack, waitFor, type Stack } from "../harness.ts";
import { rawExchange } from "../passthrough/raw-http.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

interface LogLine {
  level: string;
  msg: string;
  status?: number;
}

async function start(foreman: Partial<Config> = {}, sim = {}) {
  const lines: LogLine[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(JSON.parse(l) as LogLine) });
  stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, ...sim }, foreman, start: { log } });
  return { stack, lines };
}

const head = (method: string, path: string, length: number, extra = "") => `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

/** The value of one series of foreman_http_requests_total, or 0. */
async function httpCount(url: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`foreman_http_requests_total{${labels}}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("a client that goes away mid-body", () => {
  test.each(["/jobs", "/api/chat", "/v1/chat/completions", "/api/show", "/api/pull"])("on %s: counted as 499, logged at debug, never a 500", async (path) => {
    const { stack, lines } = await start();
    const part = '{"model":"llama3.2","messa';
    const reply = await rawExchange(stack.foreman.port, (socket) => {
      socket.write(head("POST", path, 10_000) + part);
      setTimeout(() => socket.destroy(), 50);
    });
    expect(reply.status).toBe(0); // nothing came back: the client had gone
    await waitFor(() => httpCount(stack.url, `route="${path}",method="POST",status="499"`), { what: `a 499 for ${path} in the metrics` });
    expect(await httpCount(stack.url, `route="${path}",method="POST",status="500"`)).toBe(0);
    expect(lines.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
    expect(lines.find((l) => l.msg === "request" && l.status === 499)?.level).toBe("debug");
  });
});

describe("a body that trickles in", () => {
  test.each(["/jobs", "/api/chat", "/api/show"])("on %s: 408 and the connection closed at the body deadline", async (path) => {
    const { stack } = await start({ bodyTimeoutMs: 300 });
    let timer: ReturnType<typeof setInterval> | undefined;
    const reply = await rawExchange(stack.foreman.port, (socket) => {
      socket.write(head("POST", path, 10_000) + "{");
      // a byte every 50 ms: never silent long enough for an idle timeout, never done
      timer = setInterval(() => socket.writable && socket.write(" "), 50);
    });
    clearInterval(timer);
    expect(reply.status).toBe(408);
    expect(reply.headers.connection).toBe("close");
    expect(reply.closed).toBe(true);
    expect(reply.body).toContain("300 ms");
  });

  test.each([
    ["a 401 (no token)", "/api/chat", ""],
    ["a 404 (no such route)", "/nope", "Authorization: Bearer secret\r\n"],
    ["a 404 (no such job)", "/jobs/nope/cancel", "Authorization: Bearer secret\r\n"],
  ])("answered before its body (%s): the connection closes with the reply", async (_what, path, auth) => {
    const { stack } = await start({ token: "secret", bodyTimeoutMs: 60_000 });
    let timer: ReturnType<typeof setInterval> | undefined;
    const reply = await rawExchange(stack.foreman.port, (socket) => {
      socket.write(head("POST", path, 10_000, auth) + "{");
      timer = setInterval(() => socket.writable && socket.write(" "), 50);
    });
    clearInterval(timer);
    expect(reply.status).toBeGreaterThanOrEqual(400);
    expect(reply.closed).toBe(true);
  });

  test("the deadline is for the body only: a reply slower than it and a queue wait longer than it are not cut", async () => {
    const { stack } = await start({ bodyTimeoutMs: 200 }, { tokenDelayMs: 50, models: [{ name: "llama3.2" }, { name: "slow", loadMs: 600 }] });
    const chat = (model: string) => fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], options: { num_predict: 8 } }) });
    // the first loads for 600 ms and streams for 400 ms more; the second waits in the queue meanwhile
    const [slow, queued] = await Promise.all([chat("slow"), chat("llama3.2")]);
    for (const res of [slow, queued]) {
      expect(res.status).toBe(200);
      const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l) as { done?: boolean });
      expect(lines.at(-1)?.done).toBe(true);
    }
  });
});
