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
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("GET /readyz reports the database and the target without failing on the target", async () => {
    const res = await fetch(`${foreman.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; database: { ok: boolean }; target: { url: string } };
    expect(body.status).toBe("ready");
    expect(body.database.ok).toBe(true);
    expect(body.target.url).toBe("http://127.0.0.1:9");
  });

  test("GET /openapi.json describes every registered route: path and method, parameters, body, responses, auth", async () => {
    interface Operation {
      summary: string;
      parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
      requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
      responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
      security?: unknown[];
    }
    const res = await fetch(`${foreman.url}/openapi.json`);
    const doc = (await res.json()) as { openapi: string; security: unknown; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.security).toEqual([{ bearer: [] }]);
    // OpenAPI spells /jobs/:id as /jobs/{id} and a trailing * as {path}
    const oaPath = (path: string) => path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{path}");
    // JSON as served: TypeBox's symbol keys dropped
    const served = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as unknown;
    // exactly the manifest's routes, no more, no fewer
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${oaPath(r.path)}`).sort());
    // the manifest has routes with each part, so the checks below are not vacuous
    expect({ body: routes.some((r) => r.def.body), query: routes.some((r) => r.def.query), pathParameter: routes.some((r) => r.path.includes(":")), public: routes.some((r) => r.def.public) }).toEqual({ body: true, query: true, pathParameter: true, public: true });
    for (const r of routes) {
      const route = `${r.method} ${r.path}`;
      const op = doc.paths[oaPath(r.path)]![r.method.toLowerCase()]!;
      const query = (r.def.query?.properties ?? {}) as Record<string, unknown>;
      const requiredQuery = (r.def.query?.required ?? []) as string[];
      const declared = r.def.responses ?? { 200: { description: "OK" } };
      expect({ route, summary: op.summary, security: op.security }).toEqual({ route, summary: r.def.summary, security: r.def.public ? [] : undefined });
      expect({ route, parameters: op.parameters ?? [] }).toEqual({
        route,
        parameters: [
          ...[...oaPath(r.path).matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1]!, in: "path", required: true, schema: { type: "string" } })),
          ...Object.entries(query).map(([name, schema]) => ({ name, in: "query", required: requiredQuery.includes(name), schema: served(schema) })),
        ],
      });
      expect({ route, body: op.requestBody ?? null }).toEqual({ route, body: r.def.body ? { required: true, content: { "application/json": { schema: served(r.def.body) } } } : null });
      expect({ route, responses: op.responses }).toEqual({
        route,
        responses: Object.fromEntries(
          Object.entries(declared).map(([status, d]) => [status, { description: d.description, ...(d.schema ? { content: { [d.contentType ?? "application/json"]: { schema: served(d.schema) } } } : {}) }]),
        ),
      });
    }
  });

  test("an X-Request-Id from the caller is echoed", async () => {
    const res = await fetch(`${foreman.url}/healthz`, { headers: { "x-request-id": "abc-123" } });
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  test("a path outside every route is gin's plain-text 404; /api/* and /v1/* go to the target (see the passthrough tests)", async () => {
    for (const path of ["/nope", "/jobs/x/nope", "/v2/chat"]) {
      const res = await fetch(`${foreman.url}${path}`);
      expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([404, "text/plain", "404 page not found"]);
    }
    // here there is no target to answer: the target's own 404 cannot come, foreman's 503 does
    const forwarded = await fetch(`${foreman.url}/v1/nope`);
    expect(forwarded.status).toBe(503);
    expect(((await forwarded.json()) as { error: { type: string } }).error.type).toBe("api_error");
  });

  test("a method the catch-alls do not forward on a known path is gin's plain-text 405; on foreman's own paths its JSON 405", async () => {
    for (const [method, path] of [["PUT", "/v1/chat/completions"], ["PATCH", "/api/tags"], ["PUT", "/"]] as const) {
      const res = await fetch(`${foreman.url}${path}`, { method });
      expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([405, "text/plain", "405 method not allowed"]);
    }
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
