// Bad input, generated and classic: every route gets arbitrary bodies, queries and headers.
// foreman must answer each with a 4xx (or the target's own answer), never a 5xx of its own,
// never crash, and never leave a half-written job behind. The generators are seeded: the seed
// is printed, FOREMAN_TEST_SEED replays the same inputs.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { routes } from "../../src/http/routes.gen.ts";
import { sharedStack, testSeed } from "../harness.ts";

const stack = sharedStack({ sim: { tokenDelayMs: 0, loadMs: 0, responseTokens: 2 }, foreman: { maxBodyBytes: 64 * 1024, interactiveMaxWaitMs: 5000 } });

const seed = testSeed("fuzz");

const concrete = (path: string, id: string) => path.replace(/:(\w+)/g, encodeURIComponent(id)).replace("*", encodeURIComponent(id));

/** The job rows are whole: each has its queued event, and async jobs carry a parseable request. */
function assertNoHalfWrittenJobs(): void {
  const db = stack.foreman.services.store.db;
  expect(db.query("SELECT COUNT(*) AS n FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = j.id AND e.type = 'queued')").get()).toEqual({ n: 0 });
  for (const { request } of db.query("SELECT request FROM jobs WHERE lane = 1").all() as { request: string }[]) expect(() => JSON.parse(request)).not.toThrow();
}

async function send(method: string, path: string, body: string | Uint8Array | undefined, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${stack.url}${path}`, { method, body: method === "GET" || method === "HEAD" ? undefined : body, headers });
}

/** A foreman 5xx is a bug; the target's own 5xx passed through (or 503/504 when it cannot be reached) is not. */
function expectNoForeman5xx(res: Response, text: string, where: string): void {
  if (res.status < 500) return;
  const fromTarget = /x-ndjson|event-stream/.test(res.headers.get("content-type") ?? "") || res.status === 503 || res.status === 504;
  if (!fromTarget) throw new Error(`${where} answered ${res.status}: ${text.slice(0, 300)}`);
}

describe("bad input", () => {
  test("arbitrary JSON bodies, queries and headers on every route: no foreman 5xx, no crash", async () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    const header = fc.record({ "content-type": fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "", "application/json; charset=latin1"), prefer: fc.constantFrom("", "wait=0", "wait=abc", "wait=99999999999"), "idempotency-key": fc.string({ maxLength: 300 }) });
    for (const [i, r] of routes.entries()) {
      if (r.path === "/metrics") continue;
      await fc.assert(
        fc.asyncProperty(json, fc.string({ maxLength: 30 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }), header, async (body, id, query, headers) => {
          const qs = new URLSearchParams(query).toString();
          const path = concrete(r.path, id) + (qs ? `?${qs}` : "");
          const h = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ""));
          const res = await send(r.method, path, JSON.stringify(body), h);
          const text = await res.text();
          expectNoForeman5xx(res, text, `${r.method} ${path}`);
        }),
        { numRuns: 25, seed: seed + i },
      );
    }
    assertNoHalfWrittenJobs();
    expect((await fetch(`${stack.url}/healthz`)).status).toBe(200);
  }, 120_000);

  test("POST /jobs with generated submissions: every 202 is one whole job, every refusal a 4xx naming a field", async () => {
    const submission = fc.record(
      {
        endpoint: fc.constantFrom("/api/chat", "/api/generate", "/api/embed", "/v1/chat/completions", "/nope", 42),
        request: fc.oneof(fc.record({ model: fc.oneof(fc.constantFrom("llama3.2", "nomic-embed-text", ""), fc.integer()), messages: fc.array(fc.record({ role: fc.constantFrom("user", "system"), content: fc.string() }), { maxLength: 2 }), prompt: fc.string(), input: fc.string() }, { requiredKeys: [] }), fc.jsonValue()),
        priority: fc.oneof(fc.integer({ min: -2000, max: 2000 }), fc.double(), fc.string()),
        metadata: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.array(fc.integer())),
        webhook: fc.oneof(fc.constantFrom("http://127.0.0.1:9/hook", "ftp://x/y", "http://user:pw@h/x", "http://h/\r\nX-Evil: 1", "not a url"), fc.record({ url: fc.constantFrom("https://example.invalid/h", ""), events: fc.array(fc.constantFrom("job.done", "job.nope")) })),
      },
      { requiredKeys: [] },
    );
    let accepted = 0;
    const before = (stack.foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs WHERE lane = 1").get() as { n: number }).n;
    await fc.assert(
      fc.asyncProperty(submission, async (sub) => {
        const res = await send("POST", "/jobs", JSON.stringify(sub), { "content-type": "application/json" });
        const body = (await res.json()) as { error?: { status: number; message: string; field?: string } };
        if (res.status === 202) accepted++;
        else {
          expect(res.status).toBeGreaterThanOrEqual(400);
          expect(res.status).toBeLessThan(500);
          expect(body.error?.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 300, seed },
    );
    const after = (stack.foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs WHERE lane = 1").get() as { n: number }).n;
    expect(after - before).toBe(accepted);
    assertNoHalfWrittenJobs();
  }, 120_000);

  test.each([
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x6d, 0xff, 0xfe, 0x22, 0x7d])],
    ["huge numbers", '{"request":{"model":"llama3.2"},"priority":1e309}'],
    ["a huge integer", '{"request":{"model":"llama3.2"},"priority":123456789012345678901234567890}'],
    ["deeply nested JSON", "[".repeat(100_000) + "]".repeat(100_000)],
    ["an empty body", ""],
    ["a JSON string", '"hello"'],
    ["null", "null"],
    ["an oversized body", JSON.stringify({ request: { model: "m", prompt: "x".repeat(100 * 1024) } })],
  ])("POST /jobs and POST /api/chat with %s answer 4xx", async (_name, body) => {
    for (const path of ["/jobs", "/api/chat", "/v1/chat/completions"]) {
      const res = await send("POST", path, body, { "content-type": "application/json" });
      const text = await res.text();
      if (res.status < 400 || res.status >= 500) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
      if (path === "/api/chat") expect(JSON.parse(text)).toEqual({ error: expect.any(String) });
      if (path.startsWith("/v1")) expect(JSON.parse(text)).toEqual({ error: expect.objectContaining({ message: expect.any(String), type: expect.any(String) }) });
    }
    assertNoHalfWrittenJobs();
  });

  test.each(["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%00", "01ARZ3NDEKTSV4RRFFQ69G5FAV/../x", "' OR 1=1 --"])("job ids like %p are simply not found", async (id) => {
    for (const suffix of ["", "/artifact", "/cancel"]) {
      const res = await send(suffix === "/cancel" ? "POST" : "GET", `/jobs/${id}${suffix}`, undefined);
      expect([404, 400]).toContain(res.status);
    }
  });

  test.each(["http://h/x\r\nX-Injected: 1", "http://h/x\nfoo", "javascript:alert(1)", "file:///etc/passwd", "http://user:secret@h/x"])("webhook URL %p is refused with a message naming the field", async (url) => {
    const res = await send("POST", "/jobs", JSON.stringify({ request: { model: "llama3.2" }, webhook: url }), {});
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { field: string; message: string } };
    expect(body.error.field).toBe("/webhook");
    expect(body.error.message).not.toContain("secret");
  });
});
