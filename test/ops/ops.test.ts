import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { routes } from "../../src/http/routes.gen.ts";
import { startTestForeman, type TestForeman } from "../harness.ts";

let foreman: TestForeman;
let secured: TestForeman;
beforeAll(async () => {
  // No target runs on this port; ops routes must not depend on it.
  foreman = await startTestForeman({ target: "http://127.0.0.1:9" });
  secured = await startTestForeman({ target: "http://127.0.0.1:9", token: "s3cret-token" });
});
afterAll(async () => {
  await foreman.stop();
  await secured.stop();
});

describe("ops routes", () => {
  test("GET /healthz answers while the target is unreachable", async () => {
    const res = await fetch(`${foreman.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toBeTruthy();
  });

  test("GET /readyz reports the database and the target without failing on the target", async () => {
    const res = await fetch(`${foreman.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: { ok: boolean }; target: { url: string } };
    expect(body.status).toBe("ready");
    expect(body.database.ok).toBe(true);
    expect(body.target.url).toBe("http://127.0.0.1:9");
  });

  test("GET /openapi.json describes every registered route", async () => {
    const res = await fetch(`${foreman.url}/openapi.json`);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    for (const r of routes) {
      const path = r.path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{path}");
      expect(doc.paths[path]?.[r.method.toLowerCase()]).toBeDefined();
    }
  });

  test("an X-Request-Id from the caller is echoed", async () => {
    const res = await fetch(`${foreman.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  test("unknown paths answer 404 in the dialect of their prefix (/api/* goes to the target: see the passthrough tests)", async () => {
    const openai = await fetch(`${foreman.url}/v1/nope`);
    expect(openai.status).toBe(404);
    expect(((await openai.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    const own = await fetch(`${foreman.url}/nope`);
    expect(own.status).toBe(404);
    expect(await own.json()).toEqual({ error: { status: 404, message: "no route for GET /nope" } });
  });

  test("a known path with the wrong method answers 405 in the dialect of its prefix", async () => {
    const openai = await fetch(`${foreman.url}/v1/chat/completions`);
    expect(openai.status).toBe(405);
    expect(((await openai.json()) as { error: { message: string } }).error.message).toContain("not allowed");
    const own = await fetch(`${foreman.url}/jobs/01ARZ3NDEKTSV4RRFFQ69G5FAV`, { method: "DELETE" });
    expect(own.status).toBe(405);
    expect(((await own.json()) as { error: { status: number } }).error.status).toBe(405);
  });

  test("credentials in FOREMAN_TARGET never show in /status, /readyz or errors", async () => {
    const f = await startTestForeman({ target: "http://admin:hunter2@127.0.0.1:9/" });
    try {
      const status = await (await fetch(`${f.url}/status`)).text();
      const ready = await (await fetch(`${f.url}/readyz`)).text();
      const ps = await (await fetch(`${f.url}/api/ps`)).text();
      expect(status).toContain("http://127.0.0.1:9");
      for (const text of [status, ready, ps]) expect(text).not.toContain("hunter2");
    } finally {
      await f.stop();
    }
  });

  test("with FOREMAN_TOKEN set, health stays public and the rest needs the bearer token", async () => {
    expect((await fetch(`${secured.url}/healthz`)).status).toBe(200);
    const denied = await fetch(`${secured.url}/openapi.json`);
    expect(denied.status).toBe(401);
    const body = await denied.text();
    expect(body).toContain("unauthorized");
    expect(body).not.toContain("s3cret");
    const wrong = await fetch(`${secured.url}/openapi.json`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const ok = await fetch(`${secured.url}/openapi.json`, { headers: { authorization: "Bearer s3cret-token" } });
    expect(ok.status).toBe(200);
  });
});
