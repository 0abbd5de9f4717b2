// What a caller reads when talking to the target failed: why, in words — never Bun's hint for
// developers ("pass `verbose: true` …") nor the target's internal address (ADR 0031).
import { describe, expect, test } from "bun:test";
import { networkReason } from "../../src/target/errors.ts";
import { perTest, waitFor } from "../harness.ts";
import { chunk, chunkedHead, startRawTarget } from "../passthrough/raw-http.ts";

const start = perTest();

describe("networkReason", () => {
  test("drops Bun's hint and any URL, keeps the code", () => {
    const closed = Object.assign(new Error("The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()"), { code: "ConnectionClosed" });
    expect(networkReason(closed)).toBe("The socket connection was closed unexpectedly. (ConnectionClosed)");
    const refused = Object.assign(new Error("Unable to connect to http://10.0.0.5:11434/api/chat. Is the computer able to access the url?"), { code: "ConnectionRefused" });
    expect(networkReason(refused)).toBe("Unable to connect to the target Is the computer able to access the url? (ConnectionRefused)");
    expect(networkReason(Object.assign(new Error("ECONNRESET"), { code: "ECONNRESET" }))).toBe("ECONNRESET");
    expect(networkReason("boom")).toBe("boom");
  });
});

describe("through foreman", () => {
  test("a target that drops the connection: neither the 503 nor the stream's error line carries Bun's hint or the target's address", async () => {
    const target = await startRawTarget((req, socket) => {
      if (req.path === "/api/show") return socket.destroy();
      socket.write(chunkedHead("application/x-ndjson") + chunk(JSON.stringify({ model: "m", created_at: "x", message: { role: "assistant", content: "hi" }, done: false }) + "\n"));
      setTimeout(() => socket.destroy(), 20);
    });
    start.defer(() => target.stop());
    const foreman = await start.foreman({ target: target.url, pollIntervalMs: 50, pollMaxBackoffMs: 100 });
    await waitFor(() => foreman.services.poller.up === true, { what: "the poller's first probe" });
    const show = await fetch(`${foreman.url}/api/show`, { method: "POST", body: JSON.stringify({ model: "m" }) });
    const chat = await fetch(`${foreman.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hi" }] }) });
    const texts = [await show.text(), await chat.text()];
    expect(show.status).toBe(503);
    expect(texts[1]).toContain('{"error":"the target dropped the connection');
    for (const text of texts) {
      expect(text).not.toContain("verbose");
      expect(text).not.toContain(String(target.port));
    }
  });
});
