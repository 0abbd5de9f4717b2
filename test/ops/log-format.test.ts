// The log's format follows its reader: readable lines on a terminal, JSON for files, pipes and
// collectors, either when FOREMAN_LOG_FORMAT says; and a streamed reply's request line says how
// long the stream took, written when it ended (not when its headers went out).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import { createLogger, logFormatFor } from "../../src/ops/log.ts";
import { BUN, MAIN, startStack, tempDir, waitFor } from "../harness.ts";
import { openTerminal, TMUX } from "../cli/terminal.ts";

setDefaultTimeout(60_000);

test("logFormatFor: what is asked for, else pretty on a terminal and JSON elsewhere", () => {
  expect(logFormatFor(undefined, true)).toBe("pretty");
  expect(logFormatFor(undefined, false)).toBe("json");
  expect(logFormatFor("json", true)).toBe("json");
  expect(logFormatFor("pretty", false)).toBe("pretty");
});

describe.skipIf(!TMUX)("foreman serve's log", () => {
  test("on a terminal: readable lines; FOREMAN_LOG_FORMAT=json there: JSON", async () => {
    const dir = tempDir();
    try {
      for (const [format, check] of [
        [undefined, (s: string) => /^\d\d:\d\d:\d\d\.\d{3} INFO  foreman listening url=http:\/\/127\.0\.0\.1:\d+/m.test(s)],
        ["json", (s: string) => /^\{"time":"[^"]+","level":"info","msg":"foreman listening"/m.test(s)],
      ] as const) {
        const env: Record<string, string> = { FOREMAN_DB: join(dir.path, "f.db"), FOREMAN_LOG_FORMAT: format ?? "" };
        const term = await openTerminal([BUN, MAIN, "serve", "--port", "0", "--target", "http://127.0.0.1:9"], { env, cols: 200 });
        try {
          await term.waitForScreen(check, `the listening line as ${format ?? "pretty"}`);
          await term.press("C-c");
          expect(await term.exitCode()).toBe(0);
        } finally {
          await term.stop();
        }
      }
    } finally {
      dir.remove();
    }
  });

  test("not on a terminal: JSON", async () => {
    const dir = tempDir();
    const proc = Bun.spawn([BUN, MAIN, "serve", "--port", "0", "--target", "http://127.0.0.1:9", "--db", join(dir.path, "f.db")], { env: { ...process.env, FOREMAN_LOG_FORMAT: "" }, stdout: "pipe", stderr: "pipe" });
    try {
      const reader = proc.stderr.getReader();
      const first = new TextDecoder().decode((await reader.read()).value);
      expect(JSON.parse(first.split("\n")[0]!)).toMatchObject({ level: "info" });
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
      dir.remove();
    }
  });
});

describe("a streamed reply's request line", () => {
  test("is written when the stream ends, with its whole duration and its time to headers", async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const stack = await startStack({ sim: { tokenDelayMs: 20, loadMs: 0 }, start: { log } });
    try {
      const requestLine = (id: string) => lines.find((l) => l.msg === "request" && l.request_id === id);
      const res = await fetch(`${stack.url}/api/chat`, { method: "POST", headers: { "x-request-id": "stream-1" }, body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "tell me a long story" }], options: { num_predict: 20 } }) });
      expect(res.headers.get("content-type")).toStartWith("application/x-ndjson");
      // the headers are here and the stream goes on: no line yet
      const reader = res.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      expect(requestLine("stream-1")).toBeUndefined();
      while (!(await reader.read()).done);
      const line = requestLine("stream-1")!;
      expect(line).toMatchObject({ route: "/api/chat", status: 200 });
      expect(line.ended).toBeUndefined();
      expect(Number(line.duration_ms)).toBeGreaterThanOrEqual(Number(line.headers_ms));
      // a client that goes away mid-stream: the line says so
      const cut = new AbortController();
      const gone = await fetch(`${stack.url}/api/chat`, { method: "POST", signal: cut.signal, headers: { "x-request-id": "stream-2" }, body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "again" }], options: { num_predict: 200 } }) });
      await gone.body!.getReader().read();
      cut.abort();
      expect(await waitFor(() => requestLine("stream-2"), { what: "the canceled stream's request line" })).toMatchObject({ ended: "canceled" });
      // a reply that is not a stream is logged at once, without headers_ms
      await (await fetch(`${stack.url}/status`, { headers: { "x-request-id": "plain-1" } })).text();
      expect(requestLine("plain-1")).toMatchObject({ route: "/status" });
      expect(requestLine("plain-1")!.headers_ms).toBeUndefined();
    } finally {
      await stack.stop();
    }
  });
});
