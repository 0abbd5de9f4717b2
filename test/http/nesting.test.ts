// Deep nesting inside fields, not only at the top: a body can parse fine and still be too deep
// for anything that walks it again (JSON.stringify, hashing, the job view). foreman refuses
// what it must re-serialise with a 400 naming the field, and passes the rest to the target.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { MAX_JSON_DEPTH } from "../../src/schema/depth.ts";
import { seededRandom, startStack, type Stack } from "../harness.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, responseTokens: 2 } });
});
afterAll(() => stack.stop());

/** `depth` levels of arrays (or objects) as JSON text, around `inner`. */
const nested = (depth: number, kind: "array" | "object" = "array", inner = "1") =>
  kind === "array" ? "[".repeat(depth) + inner + "]".repeat(depth) : '{"a":'.repeat(depth) + inner + "}".repeat(depth);

const post = (path: string, body: string) => fetch(`${stack.url}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });

/** Where in a submission a deep value goes, and the field foreman should name (or a field under it). */
const PLACES = [
  { field: "/request", make: (deep: string) => `{"request":{"model":"llama3.2","messages":[],"deep":${deep}}}` },
  { field: "/request", make: (deep: string) => `{"request":{"model":"llama3.2","messages":[{"role":"user","content":"hi","images":${deep}}]}}` },
  { field: "/request", make: (deep: string) => `{"endpoint":"/api/generate","request":{"model":"llama3.2","prompt":"x","options":{"stop":${deep}}}}` },
  { field: "/metadata", make: (deep: string) => `{"request":{"model":"llama3.2","messages":[]},"metadata":{"trace":${deep}}}` },
] as const;

describe("JSON nested deep inside a field", () => {
  test.each(PLACES.map((p, i) => [i, p] as const))("POST /jobs place %d: 100,000 levels is a 400 naming the field", async (_i, place) => {
    for (const kind of ["array", "object"] as const) {
      const res = await post("/jobs", place.make(nested(100_000, kind)));
      const body = (await res.json()) as { error: { status: number; message: string; field?: string } };
      expect(res.status).toBe(400);
      expect(body.error.field).toStartWith(place.field);
      expect(body.error.message).toContain(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
  });

  test("POST /jobs: nesting up to the limit is accepted", async () => {
    const res = await post("/jobs", PLACES[0].make(nested(MAX_JSON_DEPTH - 3)));
    expect(res.status).toBe(202);
  });

  test("passthrough routes forward a deep body as it is and never answer a 5xx of foreman's own", async () => {
    for (const path of ["/api/chat", "/v1/chat/completions", "/api/generate", "/api/show"]) {
      const res = await post(path, `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"prompt":"x","deep":${nested(100_000)}}`);
      const text = await res.text();
      if (res.status >= 500) throw new Error(`${path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
  });

  test("generated: a deep value at a random place and depth is accepted below the limit and a 400 naming the field above it", async () => {
    const random = seededRandom("nesting");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PLACES), fc.integer({ min: 1, max: 3 * MAX_JSON_DEPTH }), fc.constantFrom("array", "object"), async (place, depth, kind) => {
        const res = await post("/jobs", place.make(nested(depth, kind as "array" | "object")));
        const body = (await res.json()) as { error?: { field?: string } };
        // the place itself adds up to 5 levels above the deep value
        if (depth + 5 <= MAX_JSON_DEPTH) expect(res.status).toBe(202);
        else if (depth > MAX_JSON_DEPTH) expect([res.status, body.error?.field?.startsWith(place.field)]).toEqual([400, true]);
        else expect([202, 400]).toContain(res.status);
      }),
      { numRuns: 60, seed: Math.floor(random() * 2 ** 31) },
    );
  });
});

describe("the simulator", () => {
  test("refuses JSON deeper than Go's limit as Ollama does: a 400 in Go's words", async () => {
    const deep = await fetch(`${stack.sim.url}/api/chat`, { method: "POST", body: `{"model":"llama3.2","deep":${nested(100_000)}}` });
    expect([deep.status, await deep.json()]).toEqual([400, { error: "invalid character '[' exceeded max depth" }]);
    const fine = await fetch(`${stack.sim.url}/api/chat`, { method: "POST", body: `{"model":"llama3.2","messages":[],"deep":${nested(9_000)}}` });
    expect(fine.status).toBe(200);
  });
});
