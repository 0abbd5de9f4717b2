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
      operationId: string;
      summary: string;
      parameters?: { name: string; in: string; required: boolean; schema: unknown }[];
      requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
      responses: Record<string, { description: string; content?: Record<string, { schema: unknown }>; headers?: Record<string, unknown> }>;
      security?: unknown[];
    }
    const res = await fetch(`${foreman.url}/openapi.json`);
    const doc = (await res.json()) as { openapi: string; security: unknown; components: { schemas: Record<string, unknown> }; paths: Record<string, Record<string, Operation>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.security).toEqual([{ bearer: [] }]);
    // the API's schemas are named once under components, and every $ref resolves
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(["Job", "JobList", "JobProgress", "Submission", "Status", "Error"]));
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.filter((name) => !(name in doc.components.schemas))).toEqual([]);
    /** A schema with its $refs replaced by what they name, to compare with the routes' own. */
    const deref = (schema: unknown): unknown => {
      if (Array.isArray(schema)) return schema.map(deref);
      if (!schema || typeof schema !== "object") return schema;
      const ref = (schema as { $ref?: string }).$ref;
      if (ref) return deref(doc.components.schemas[ref.split("/").at(-1)!]);
      return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, deref(v)]));
    };
    // OpenAPI spells /jobs/:id as /jobs/{id} and a trailing * as {path}
    const oaPath = (path: string) => path.replace(/:(\w+)/g, "{$1}").replace(/\*$/, "{path}");
    // JSON as served: TypeBox's symbol keys dropped
    const served = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as unknown;
    // exactly the manifest's routes, no more, no fewer
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(routes.map((r) => `${r.method} ${oaPath(r.path)}`).sort());
    // the manifest has routes with each part, so the checks below are not vacuous
    expect({ body: routes.some((r) => r.def.body), query: routes.some((r) => r.def.query), pathParameter: routes.some((r) => r.path.includes(":")), public: routes.some((r) => r.def.public) }).toEqual({ body: true, query: true, pathParameter: true, public: true });
    // an operationId per operation, each its own
    const ids = routes.map((r) => doc.paths[oaPath(r.path)]![r.method.toLowerCase()]!.operationId);
    expect(ids.filter((id) => !/^[a-z][A-Za-z0-9]+$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const r of routes) {
      const route = `${r.method} ${r.path}`;
      const op = doc.paths[oaPath(r.path)]![r.method.toLowerCase()]!;
      const query = (r.def.query?.properties ?? {}) as Record<string, unknown>;
      const requiredQuery = (r.def.query?.required ?? []) as string[];
      const declared = r.def.responses ?? { 200: { description: "OK" } };
      expect({ route, summary: op.summary, security: op.security }).toEqual({ route, summary: r.def.summary, security: r.def.public ? [] : undefined });
      expect({ route, parameters: deref((op.parameters ?? []).filter((p) => p.in !== "header")) }).toEqual({
        route,
        parameters: [
          ...[...oaPath(r.path).matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1]!, in: "path", required: true, schema: { type: "string" } })),
          ...Object.entries(query).map(([name, schema]) => ({ name, in: "query", required: requiredQuery.includes(name), schema: served(schema) })),
        ],
      });
      expect({ route, body: deref(op.requestBody ?? null) }).toEqual({ route, body: r.def.body ? { required: true, content: { "application/json": { schema: served(r.def.body) } } } : null });
      for (const [status, d] of Object.entries(declared)) {
        const documentedResponse = op.responses[status]!;
        expect({ route, status, description: documentedResponse.description }).toEqual({ route, status, description: d.description });
        if (d.schema) expect({ route, status, content: deref(documentedResponse.content) }).toEqual({ route, status, content: { [d.contentType ?? "application/json"]: { schema: served(d.schema) } } });
        else if (d.contentType) expect({ route, status, types: Object.keys(documentedResponse.content ?? {}) }).toEqual({ route, status, types: [d.contentType] });
      }
      // what every route can answer besides: the token refused; for a body, too slow or too large
      const standard = [...(r.def.public ? [] : ["401"]), ...(r.method === "POST" ? ["408", "413"] : [])];
      expect({ route, missing: standard.filter((status) => !op.responses[status]) }).toEqual({ route, missing: [] });
    }
  });

  test("GET /openapi.json: the headers foreman's API defines, the event stream's type, times as date-time", async () => {
    const doc = (await (await fetch(`${foreman.url}/openapi.json`)).json()) as { components: { schemas: Record<string, { properties: Record<string, { format?: string; anyOf?: { format?: string }[] }> }> }; paths: Record<string, Record<string, { operationId: string; parameters?: { name: string; in: string }[]; responses: Record<string, { content?: Record<string, unknown>; headers?: Record<string, unknown> }> }>> };
    const submit = doc.paths["/jobs"]!.post!;
    expect(submit.operationId).toBe("submitJob");
    expect(submit.parameters!.filter((p) => p.in === "header").map((p) => p.name)).toEqual(["Idempotency-Key", "Prefer"]);
    expect(Object.keys(submit.responses["202"]!.headers!)).toEqual(expect.arrayContaining(["Location", "Preference-Applied"]));
    expect(submit.responses["401"]!.content).toEqual({ "application/json": { schema: { $ref: "#/components/schemas/Error" } } });
    const events = doc.paths["/jobs/{id}/events"]!.get!;
    expect(Object.keys(events.responses["200"]!.content!)).toEqual(["text/event-stream"]);
    expect(events.parameters!.filter((p) => p.in === "header").map((p) => p.name)).toEqual(["Last-Event-ID"]);
    const job = doc.components.schemas.Job!.properties;
    expect(job.created_at!.format).toBe("date-time");
    const status = doc.components.schemas.Status!.properties as unknown as { target: { properties: Record<string, { format?: string }> } };
    expect(status.target.properties.since!.format).toBe("date-time");
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
