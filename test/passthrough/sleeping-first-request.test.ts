// The first metadata request after the target stops answering without refusing (a sleeping
// Mac drops packets; SIGSTOP does the same), before the poller has noticed: /api/tags and
// /v1/models get the poller's last good copy after a short grace instead of waiting out the
// whole metadata deadline, and the request goes on, its answer refreshing the copy (ADR 0030).
import { describe, expect, test } from "bun:test";
import { perTest, waitFor } from "../harness.ts";
import { startRawTarget } from "./raw-http.ts";

const started = perTest();

/** foreman in front of a raw target; the metadata deadline is a minute, so only the grace can end a held request within the test. */
async function start(graceMs?: number) {
  const target = await startRawTarget((_req, socket) => socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
  started.defer(() => target.stop());
  const foreman = await started.foreman({ target: target.url, metadataTimeoutMs: 60_000, ...(graceMs === undefined ? {} : { metadataGraceMs: graceMs }) });
  await waitFor(() => foreman.services.poller.tags, { what: "the poller's first /api/tags" });
  foreman.services.poller.stop(); // the poller has not noticed yet: the first requests are on their own
  return { target, foreman };
}

describe("a target that stops answering, the first metadata request", () => {
  test("/api/tags and /v1/models get the last good copy after the grace, not the metadata deadline", async () => {
    const { target, foreman } = await start();
    const tags = await (await fetch(`${foreman.url}/api/tags`)).text();
    target.hold(true);
    const before = target.seen.length;
    const cached = await fetch(`${foreman.url}/api/tags`);
    expect(cached.status).toBe(200);
    expect(cached.headers.get("x-foreman-cache")).toStartWith("stale; copied-at=");
    expect(await cached.text()).toBe(tags);
    const models = await fetch(`${foreman.url}/v1/models`);
    expect(models.status).toBe(200);
    expect(models.headers.get("x-foreman-cache")).toStartWith("stale; copied-at=");
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(["m:latest"]);
    const one = await fetch(`${foreman.url}/v1/models/m`);
    expect([one.status, ((await one.json()) as { id: string }).id]).toEqual([200, "m"]);
    // each went to the target, which held it
    expect(target.seen.slice(before)).toEqual(["GET /api/tags", "GET /v1/models", "GET /v1/models/m"]);
  });

  test("metadata without a copy still waits for the target", async () => {
    const { target, foreman } = await start(50);
    target.hold(true);
    const ac = new AbortController();
    let settled = false;
    const version = fetch(`${foreman.url}/api/version`, { signal: ac.signal }).then(
      () => (settled = true),
      () => {},
    );
    await waitFor(() => target.seen.includes("GET /api/version"), { what: "the target to get /api/version" });
    await Bun.sleep(200);
    expect(settled).toBe(false);
    ac.abort();
    await version;
  });
});

describe("the answer that comes after the grace", () => {
  test("refreshes the copy", async () => {
    let late: (() => void) | undefined;
    let list = ["m:latest"];
    // a target whose /api/tags answers only when the test says so
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      fetch: async (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/api/tags") {
          if (late === undefined && list.length > 1) await new Promise<void>((resolve) => (late = resolve));
          return Response.json({ models: list.map((name) => ({ name, model: name, modified_at: "2026-01-01T00:00:00Z" })) });
        }
        if (path === "/api/ps") return Response.json({ models: [] });
        return new Response("Ollama is running");
      },
    });
    started.defer(() => server.stop(true));
    const foreman = await started.foreman({ target: `http://127.0.0.1:${server.port}`, metadataTimeoutMs: 60_000, metadataGraceMs: 50 });
    await waitFor(() => foreman.services.poller.tags, { what: "the poller's first /api/tags" });
    foreman.services.poller.stop();
    list = ["m:latest", "n:latest"];
    const cached = await fetch(`${foreman.url}/api/tags`);
    expect(cached.headers.get("x-foreman-cache")).toStartWith("stale; copied-at=");
    expect(((await cached.json()) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(["m:latest"]);
    await waitFor(() => late, { what: "the held /api/tags" });
    late!();
    await waitFor(() => foreman.services.poller.tags?.text.includes("n:latest"), { what: "the late answer to refresh the copy" });
    expect(foreman.services.poller.lists("n")).toBe(true);
  });
});
