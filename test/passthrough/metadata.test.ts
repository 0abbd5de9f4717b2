// Metadata requests against a target that stops answering without refusing (a sleeping Mac
// drops packets): they get a short deadline of their own instead of the first-byte timeout
// meant for model loads, and once the poller says the target is down they are answered at
// once — tags and models from the last good copy, the rest 503 — without trying the target.
import { describe, expect, test } from "bun:test";
import { perTest, waitFor } from "../harness.ts";
import { startRawTarget } from "./raw-http.ts";

const started = perTest();

const METADATA = [
  ["GET", "/api/version"],
  ["GET", "/api/ps"],
  ["POST", "/api/show"],
  ["HEAD", "/"],
  ["GET", "/"],
] as const;

async function start() {
  const target = await startRawTarget((req, socket) => {
    const body = req.path === "/api/version" ? '{"version":"0.12.0"}' : "{}";
    socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  started.defer(() => target.stop());
  // the first-byte timeout stays at its default (10 minutes): only the metadata deadline can end these requests
  const foreman = await started.foreman({ target: target.url, metadataTimeoutMs: 300, connectTimeoutMs: 300, pollIntervalMs: 100, pollMaxBackoffMs: 200 });
  await waitFor(() => foreman.services.poller.tags, { what: "the poller's first /api/tags" });
  return { target, foreman };
}

const send = (base: string, method: string, path: string) => fetch(`${base}${path}`, { method, body: method === "POST" ? '{"model":"m"}' : undefined });

describe("a target that stops answering without refusing", () => {
  test("before the poller notices: metadata gets a 504 at its own deadline, not the first-byte timeout", async () => {
    const { target, foreman } = await start();
    target.hold(true);
    foreman.services.poller.stop(); // keep the poller from noticing, to see the deadline alone
    for (const [method, path] of METADATA) {
      const res = await send(foreman.url, method, path);
      expect(res.status).toBe(504);
      if (method !== "HEAD") expect(((await res.json()) as { error: string }).error).toContain("did not answer within 300 ms");
    }
  });

  test("once the poller says down: tags and models from the last good copy, the rest 503 at once, the target not asked", async () => {
    const { target, foreman } = await start();
    const tags = await (await fetch(`${foreman.url}/api/tags`)).text();
    target.hold(true);
    await waitFor(() => foreman.services.poller.up === false, { what: "the poller to see the target down" });
    const before = target.seen.length;
    const cached = await fetch(`${foreman.url}/api/tags`);
    expect(cached.headers.get("x-foreman-cache")).toStartWith("stale; copied-at=");
    expect([cached.status, await cached.text()]).toEqual([200, tags]);
    const models = await fetch(`${foreman.url}/v1/models`);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(["m:latest"]);
    for (const [method, path] of METADATA) {
      const res = await send(foreman.url, method, path);
      expect(res.status).toBe(503);
      if (method !== "HEAD") expect(((await res.json()) as { error: string }).error).toContain("the target is unreachable since");
    }
    // only the poller's own liveness probes reached the target
    expect(target.seen.slice(before).filter((line) => line !== "HEAD /")).toEqual([]);
  });
});
