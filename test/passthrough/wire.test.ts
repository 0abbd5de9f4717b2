// Raw wire behaviour of the passthrough: framing, timing of chunks, byte-exact replies,
// cancellation, headers, tokens, errors in the caller's dialect, and a sleeping target.
import { describe, expect, test } from "bun:test";
import { BUSY_MESSAGE } from "../../src/passthrough/relay.ts";
import { perTest, waitFor, workerBusy } from "../harness.ts";
import { ndjson, readArrivals } from "../wire.ts";

const start = perTest();

const chatBody = (over: Record<string, unknown> = {}) => JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], ...over });
const post = (base: string, path: string, body: string, headers: Record<string, string> = {}, signal?: AbortSignal) => fetch(`${base}${path}`, { method: "POST", body, headers, signal });
const TIME_FIELDS = /"(created_at|created|id|total_duration|load_duration|prompt_eval_duration|eval_duration)":("[^"]*"|\d+)/g;


describe("streaming", () => {
  test("NDJSON lines arrive spaced as the target emits them, framed and typed as the target's", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 50, loadMs: 5, responseTokens: 6 } });
    const res = await post(foreman.url, "/api/chat", chatBody());
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    expect(res.headers.get("server-timing")).toMatch(/queue;dur=/);
    const chunks = await readArrivals(res);
    // one compact JSON object per line, every line terminated; the last one is done
    const lines = ndjson(chunks.map((c) => c.text).join(""));
    expect(lines.at(-1)).toMatchObject({ done: true });
    // not all at the end: the content chunks are spread over (n-1) token delays
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    expect(chunks.at(-1)!.at - chunks[0]!.at).toBeGreaterThanOrEqual(5 * 25);
  });

  test("SSE events arrive as the target emits them and end with [DONE]", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 50, loadMs: 5, responseTokens: 6 } });
    const res = await post(foreman.url, "/v1/chat/completions", chatBody({ stream: true }));
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const chunks = await readArrivals(res);
    const text = chunks.map((c) => c.text).join("");
    expect(text).toEndWith("data: [DONE]\n\n");
    expect(chunks.at(-1)!.at - chunks[0]!.at).toBeGreaterThanOrEqual(5 * 25);
  });

  test("replies are byte-for-byte the target's (apart from clocks), and stream is not added to the body", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 } });
    for (const [path, body] of [
      ["/api/chat", chatBody({ stream: false })],
      ["/api/chat", chatBody()],
      ["/api/generate", JSON.stringify({ model: "llama3.2", prompt: "x" })],
      ["/v1/chat/completions", chatBody()],
      ["/v1/chat/completions", chatBody({ stream: true })],
      ["/api/embed", JSON.stringify({ model: "nomic-embed-text", input: "x" })],
    ] as const) {
      const a = await post(sim.url, path, body);
      const b = await post(foreman.url, path, body);
      expect(b.status).toBe(a.status);
      expect(b.headers.get("content-type")).toBe(a.headers.get("content-type"));
      expect((await b.text()).replace(TIME_FIELDS, "")).toBe((await a.text()).replace(TIME_FIELDS, ""));
    }
  });
});

describe("cancellation", () => {
  test("a client that goes away mid-stream stops the target's generation", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 20, loadMs: 5 } });
    const abort = new AbortController();
    const res = await post(foreman.url, "/api/chat", chatBody({ options: { num_predict: 500 } }), {}, abort.signal);
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await waitFor(() => sim.counters.aborted >= 1, { what: "the target to see its request aborted" });
    expect(sim.counters.completed).toBe(0);
    await waitFor(() => foreman.services.queue.activeCounts().length === 0, { what: "no job left active" });
    const row = foreman.services.store.db.query("SELECT status FROM jobs WHERE lane = 0").get() as { status: string };
    expect(row.status).toBe("canceled");
  });

  test("a client that goes away while its model loads aborts the load", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 5, models: [{ name: "slow", loadMs: 60_000 }] } });
    const abort = new AbortController();
    const pending = post(foreman.url, "/api/chat", chatBody({ model: "slow" }), {}, abort.signal).catch((e) => e);
    await waitFor(() => workerBusy(foreman), { what: "the worker to run the request" });
    abort.abort();
    await pending;
    await waitFor(() => sim.counters.aborted >= 1, { what: "the target to see the load aborted" });
    expect(sim.resident()).toEqual([]);
  });

  test("a client that goes away while queued never reaches the target", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 5, models: [{ name: "slow", loadMs: 60_000 }, { name: "llama3.2" }] } });
    const blocker = new AbortController();
    const first = post(foreman.url, "/api/chat", chatBody({ model: "slow" }), {}, blocker.signal).catch((e) => e);
    await waitFor(() => workerBusy(foreman), { what: "the worker to run the blocking request" });
    const abort = new AbortController();
    const queued = post(foreman.url, "/api/chat", chatBody(), {}, abort.signal).catch((e) => e);
    await waitFor(() => foreman.services.queue.waitingInteractive() >= 1, { what: "the second request to wait in the queue" });
    abort.abort();
    await queued;
    await waitFor(() => foreman.services.queue.waitingInteractive() === 0, { what: "the aborted request to leave the queue" });
    blocker.abort();
    await first;
    expect(sim.counters.requests["POST /api/chat"]).toBe(1);
  });
});

describe("one request at a time", () => {
  test("eight concurrent clients on two models: the target never sees two inference requests", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 2, loadMs: 10 } });
    const replies = await Promise.all(Array.from({ length: 8 }, (_, i) => post(foreman.url, "/api/chat", chatBody({ model: i % 2 ? "mistral" : "llama3.2", stream: false })).then((r) => r.json())));
    expect(replies.map((r) => (r as { done: boolean }).done)).toEqual(replies.map(() => true));
    expect(sim.counters.maxConcurrent).toBe(1);
    await waitFor(() => foreman.services.queue.activeCounts().length === 0, { what: "no job left active" });
    const rows = foreman.services.store.db.query("SELECT status, COUNT(*) AS n FROM jobs WHERE lane = 0 GROUP BY status").all();
    expect(rows).toEqual([{ status: "done", n: 8 }]);
  });
});

describe("headers and tokens", () => {
  test("go-llm style: native /api/chat with a bearer token streams; without it, 401 in each dialect", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, foreman: { token: "client-secret" } });
    const ok = await post(foreman.url, "/api/chat", chatBody(), { authorization: "Bearer client-secret", "content-type": "application/json", accept: "application/x-ndjson" });
    expect(ok.status).toBe(200);
    expect((await ok.text()).trim().split("\n").length).toBeGreaterThan(2);
    const native = await post(foreman.url, "/api/chat", chatBody());
    expect(native.status).toBe(401);
    expect(native.headers.get("content-type")).toContain("application/json");
    expect(await native.json()).toEqual({ error: expect.stringContaining("unauthorized") });
    const openai = await post(foreman.url, "/v1/chat/completions", chatBody(), { authorization: "Bearer wrong" });
    expect(openai.status).toBe(401);
    expect(await openai.json()).toEqual({ error: { message: expect.stringContaining("unauthorized"), type: "authentication_error", param: null, code: null } });
  });

  test("Host is the target's, the client's token is dropped, the target token added, hop-by-hop headers dropped, X-Request-Id echoed", async () => {
    const seen: Headers[] = [];
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        seen.push(req.headers);
        if (new URL(req.url).pathname === "/") return new Response("Ollama is running");
        return new Response(JSON.stringify({ model: "m", created_at: "x", message: { role: "assistant", content: "" }, done: true, done_reason: "stop" }), { headers: { "content-type": "application/json; charset=utf-8" } });
      },
    });
    start.defer(() => target.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${target.port}`, token: "client-secret", targetToken: "target-secret" });
    const res = await post(foreman.url, "/api/chat", chatBody({ stream: false }), { authorization: "Bearer client-secret", "x-request-id": "req-42", "proxy-authorization": "x", te: "trailers", "x-custom": "kept" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toBe("req-42");
    const h = seen.find((x) => x.get("x-custom"))!;
    expect(h.get("host")).toBe(`127.0.0.1:${target.port}`);
    expect(h.get("authorization")).toBe("Bearer target-secret");
    expect(h.get("proxy-authorization")).toBeNull();
    expect(h.get("te")).toBeNull();
    const generated = await post(foreman.url, "/api/chat", chatBody({ stream: false }), { authorization: "Bearer client-secret" });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("errors in the caller's dialect", () => {
  test("bad JSON, a missing model and a body over the limit are refused before the queue", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, foreman: { maxBodyBytes: 2048 } });
    const bad = await post(foreman.url, "/api/chat", "{nope");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("invalid character 'n' looking for beginning of object key string");
    const noModel = await post(foreman.url, "/v1/chat/completions", JSON.stringify({ messages: [{ role: "user", content: "hi" }] }));
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toEqual({ error: { message: "model is required", type: "invalid_request_error", param: null, code: null } });
    const big = await post(foreman.url, "/api/generate", JSON.stringify({ model: "llama3.2", prompt: "x".repeat(5000) }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { error: string }).error).toContain("larger than 2048 bytes");
    expect(sim.counters.requests["POST /api/chat"] ?? 0).toBe(0);
  });

  test("target errors pass through unchanged; a mid-stream failure keeps the target's error line and no done", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0, faults: { failLoad: ["mistral"] } } });
    const a = await post(sim.url, "/api/chat", chatBody({ model: "mistral" }));
    const b = await post(foreman.url, "/api/chat", chatBody({ model: "mistral" }));
    expect(b.status).toBe(500);
    expect(await b.text()).toBe(await a.text());
    await sim.setFaults({ failLoad: [], errorMidStream: { afterChunks: 2, message: "runner crashed" } });
    const mid = await post(foreman.url, "/api/chat", chatBody());
    expect(mid.status).toBe(200);
    const lines = (await mid.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ error: "runner crashed" });
    expect(lines.filter((l) => l.done === true)).toEqual([]);
  });

  test("a target that drops the connection mid-stream: the NDJSON stream ends with an error line", async () => {
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        if (new URL(req.url).pathname === "/") return new Response("Ollama is running");
        let sent = 0;
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (sent++ < 2) {
                c.enqueue(new TextEncoder().encode(JSON.stringify({ model: "m", created_at: "x", message: { role: "assistant", content: "a" }, done: false }) + "\n"));
                await Bun.sleep(5);
              } else c.error(new Error("boom"));
            },
          }),
          { headers: { "content-type": "application/x-ndjson" } },
        );
      },
    });
    start.defer(() => target.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${target.port}` });
    const res = await post(foreman.url, "/api/chat", chatBody());
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ error: expect.stringContaining("mid-stream") });
  });
});

describe("a sleeping target", () => {
  test("tags and models come from the last good copy; other metadata answers 503; inference waits and completes on waking", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 300 } });
    const tags = await (await fetch(`${foreman.url}/api/tags`)).text();
    await waitFor(() => foreman.services.poller.tags, { what: "the poller's first copy of /api/tags" });
    await sim.setFaults({ asleep: true });
    const cached = await fetch(`${foreman.url}/api/tags`);
    expect(cached.status).toBe(200);
    expect(cached.headers.get("x-foreman-cache")).toStartWith("stale; copied-at=");
    expect(await cached.text()).toBe(tags);
    const models = await fetch(`${foreman.url}/v1/models`);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: { id: string }[] }).data.map((m) => m.id)).toContain("llama3.2:latest");
    const ps = await fetch(`${foreman.url}/api/ps`);
    expect(ps.status).toBe(503);
    expect(await ps.json()).toEqual({ error: expect.stringContaining("unreachable") });
    const show = await post(foreman.url, "/api/show", JSON.stringify({ model: "llama3.2" }));
    expect(show.status).toBe(503);
    // inference waits in the queue...
    const pending = post(foreman.url, "/api/chat", chatBody({ stream: false }));
    await waitFor(() => foreman.services.queue.waitingInteractive() >= 1, { what: "the request to wait in the queue" });
    // it keeps waiting while the poller probes the sleeping target again
    const probes = foreman.services.poller.errors;
    await waitFor(() => foreman.services.poller.errors >= probes + 2, { what: "two more failed liveness probes while the request waits" });
    expect(foreman.services.queue.waitingInteractive()).toBe(1);
    // ...and completes when the target wakes
    await sim.setFaults({ asleep: false });
    const res = await pending;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
  });

  test("past the maximum wait (the target unreachable) or the maximum number waiting (Ollama's busy message): 503, or the OpenAI envelope", async () => {
    const { sim, foreman: first } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0, faults: { asleep: true } }, foreman: { interactiveMaxWaitMs: 200, interactiveMaxWaiting: 2, pollIntervalMs: 50 } });
    const waited = await post(first.url, "/api/chat", chatBody());
    expect(waited.status).toBe(503);
    expect(await waited.json()).toEqual({ error: expect.stringContaining("the target is unreachable") });
    const openai = await post(first.url, "/v1/chat/completions", chatBody());
    expect(openai.status).toBe(503);
    expect(await openai.json()).toEqual({ error: { message: expect.stringContaining("the target is unreachable"), type: "api_error", param: null, code: null } });
    await first.stop();
    const foreman = await start.foreman({ target: sim.url, interactiveMaxWaitMs: 60_000, interactiveMaxWaiting: 2, pollIntervalMs: 50 });
    const held = [new AbortController(), new AbortController()];
    const waiting = held.map((a) => post(foreman.url, "/api/chat", chatBody(), {}, a.signal).catch(() => null));
    await waitFor(() => foreman.services.queue.waitingInteractive() >= 2, { what: "two requests waiting in the queue" });
    const third = await post(foreman.url, "/api/generate", JSON.stringify({ model: "llama3.2", prompt: "x" }));
    expect(third.status).toBe(503);
    expect(await third.json()).toEqual({ error: BUSY_MESSAGE });
    held.forEach((a) => a.abort());
    await Promise.all(waiting);
  });
});

describe("direct routes", () => {
  test("/, HEAD /, version, show, model ids with a colon, pull progress, copy and delete are the target's", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 } });
    expect(await (await fetch(`${foreman.url}/`)).text()).toBe("Ollama is running");
    const head = await fetch(`${foreman.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await (await fetch(`${foreman.url}/api/version`)).json()).toEqual(await (await fetch(`${sim.url}/api/version`)).json());
    const model = await fetch(`${foreman.url}/v1/models/llama3.2:latest`);
    expect(((await model.json()) as { id: string }).id).toBe("llama3.2:latest");
    const pull = await post(foreman.url, "/api/pull", JSON.stringify({ model: "llama3.1" }));
    expect(pull.headers.get("content-type")).toBe("application/x-ndjson");
    const statuses = (await pull.text()).trim().split("\n").map((l) => (JSON.parse(l) as { status: string }).status);
    expect(statuses[0]).toBe("pulling manifest");
    expect(statuses.at(-1)).toBe("success");
    const copy = await post(foreman.url, "/api/copy", JSON.stringify({ source: "llama3.2", destination: "mine" }));
    expect([copy.status, await copy.text()]).toEqual([200, ""]);
    const del = await fetch(`${foreman.url}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "mine" }) });
    expect([del.status, await del.text()]).toEqual([200, ""]);
    const gone = await fetch(`${foreman.url}/api/delete`, { method: "DELETE", body: JSON.stringify({ model: "mine" }) });
    expect(gone.status).toBe(404);
  });

  test("other /api paths and wrong methods reach the target, which answers as Ollama does", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 } });
    for (const [method, path] of [["GET", "/api/chat"], ["GET", "/api/nope"], ["HEAD", "/api/blobs/sha256:0123"], ["POST", "/api/tags"]] as const) {
      const a = await fetch(`${sim.url}${path}`, { method });
      const b = await fetch(`${foreman.url}${path}`, { method });
      expect([b.status, b.headers.get("content-type"), await b.text()]).toEqual([a.status, a.headers.get("content-type"), await a.text()]);
    }
    expect(await (await fetch(`${foreman.url}/api/chat`)).text()).toBe("405 method not allowed");
  });
});

describe("coalesced metadata", () => {
  test("identical /api/tags requests in flight together share one upstream request, each gets the full reply", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, foreman: { pollIntervalMs: 3_600_000 } });
    // the poller's first /api/tags is done (the next is an hour away): every count below is the passthrough's
    await waitFor(() => foreman.services.poller.tags, { what: "the poller's first copy of /api/tags" });
    const expected = await (await fetch(`${sim.url}/api/tags`)).text();
    const before = sim.counters.requests["GET /api/tags"] ?? 0;
    const replies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${foreman.url}/api/tags`).then(async (r) => [r.status, r.headers.get("content-type"), await r.text()])));
    for (const r of replies) expect(r).toEqual([200, "application/json; charset=utf-8", expected]);
    const upstream = (sim.counters.requests["GET /api/tags"] ?? 0) - before;
    expect(upstream).toBeGreaterThanOrEqual(1);
    expect(upstream).toBeLessThan(50);
    // a later request is not served an old reply: it asks again
    await fetch(`${foreman.url}/api/tags`);
    expect((sim.counters.requests["GET /api/tags"] ?? 0) - before).toBe(upstream + 1);
  });
});

describe("the maximum wait", () => {
  test("applies to time in the queue only: a request the worker took gets its reply even past it", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, models: [{ name: "slow", loadMs: 400 }, { name: "llama3.2" }] }, foreman: { interactiveMaxWaitMs: 150 } });
    const res = await post(foreman.url, "/api/chat", chatBody({ model: "slow", stream: false }));
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
    // and the worker is free for the next one
    const next = await post(foreman.url, "/api/chat", chatBody({ stream: false }));
    expect(next.status).toBe(200);
  });
});

describe("a target that stops answering", () => {
  test("hung before the first byte: 504 in the caller's dialect after the first-byte timeout", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0, faults: { hung: true } }, foreman: { firstByteTimeoutMs: 200, pollIntervalMs: 3_600_000 } });
    const native = await post(foreman.url, "/api/chat", chatBody());
    expect(native.status).toBe(504);
    expect(await native.json()).toEqual({ error: expect.stringContaining("sent nothing") });
    const openai = await post(foreman.url, "/v1/chat/completions", chatBody());
    expect(openai.status).toBe(504);
    expect(((await openai.json()) as { error: { type: string } }).error.type).toBe("api_error");
  });

  test("silent mid-stream: the stream ends with an error line after the idle timeout and the worker moves on", async () => {
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        if (new URL(req.url).pathname === "/") return new Response("Ollama is running");
        const line = JSON.stringify({ model: "m", created_at: "x", message: { role: "assistant", content: "a" }, done: false }) + "\n";
        return new Response(
          new ReadableStream({
            start(c) {
              c.enqueue(new TextEncoder().encode(line)); // then nothing, ever
            },
          }),
          { headers: { "content-type": "application/x-ndjson" } },
        );
      },
    });
    start.defer(() => target.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${target.port}`, idleTimeoutMs: 200 });
    const res = await post(foreman.url, "/api/chat", chatBody());
    const lines = (await res.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.at(-1)).toEqual({ error: expect.stringContaining("went silent") });
    await waitFor(() => foreman.services.queue.activeCounts().length === 0, { what: "no job left active" });
    const row = foreman.services.store.db.query("SELECT status, error FROM jobs WHERE lane = 0").get() as { status: string; error: string };
    expect(row.status).toBe("failed");
    expect(foreman.services.worker.state.kind).toBe("idle");
  });

  test("metadata stalled mid-body (/api/tags, /api/ps): a chat waits at most FOREMAN_METADATA_GRACE_MS for the model list, runs, and its end is not held", async () => {
    // Bun.serve would cut the stalled replies after 10 s on its own; this target never does
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/") return new Response("Ollama is running");
        if (path === "/api/chat") return new Response(JSON.stringify({ model: "llama3.2", created_at: "x", message: { role: "assistant", content: "a" }, done: true }) + "\n", { headers: { "content-type": "application/x-ndjson" } });
        // the headers and the start of a model list, then nothing, ever
        return new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('{"models":[')) }), { headers: { "content-type": "application/json" } });
      },
    });
    start.defer(() => target.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${target.port}`, connectTimeoutMs: 1000 });
    // the target is known up, so the chat's model is looked up in a fresh /api/tags first
    await waitFor(() => foreman.services.poller.up === true, { what: "the poller to see the target up" });
    const res = await post(foreman.url, "/api/chat", chatBody());
    expect(res.status).toBe(200);
    expect((await res.text()).trim().split("\n").map((l) => JSON.parse(l)).at(-1)).toMatchObject({ done: true });
    // the job loaded its model, so its end asked /api/ps, which never finishes
    await waitFor(() => foreman.services.queue.activeCounts().length === 0, { what: "no job left active" });
    expect((foreman.services.store.db.query("SELECT status FROM jobs WHERE lane = 0").get() as { status: string }).status).toBe("done");
  }, 20_000);
});

describe("shutdown", () => {
  test("callers still waiting in the queue get a 503 at once; a running stream may finish", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 20, loadMs: 0, models: [{ name: "llama3.2" }, { name: "slow", loadMs: 60_000 }] } });
    const running = post(foreman.url, "/api/chat", chatBody({ options: { num_predict: 10 } }));
    await waitFor(() => workerBusy(foreman), { what: "the worker to run the first request" });
    const waiting = post(foreman.url, "/api/chat", chatBody({ model: "slow" }));
    await waitFor(() => foreman.services.queue.waitingInteractive() >= 1, { what: "the second request to wait in the queue" });
    const stopping = foreman.stop();
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: string }).error).toContain("shutting down");
    const finished = await running;
    const lines = (await finished.text()).trim().split("\n").map((l) => JSON.parse(l) as { done?: boolean });
    expect(lines.at(-1)!.done).toBe(true);
    await stopping;
  });
});
