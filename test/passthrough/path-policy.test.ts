// Forwarded paths with an encoded slash or a dot segment are refused before the target is
// asked (a proxy that decodes %2F would route them elsewhere); model names in /v1/models/{id}
// and blob digests keep their encoded slashes, never their dot segments.
import { describe, expect, test } from "bun:test";
import { unforwardable } from "../../src/passthrough/path-policy.ts";
import { sharedStack } from "../harness.ts";
import { rawExchange } from "./raw-http.ts";

describe("unforwardable", () => {
  test.each([
    ["/api/..%2f..%2fetc%2fpasswd", "an encoded slash"],
    ["/api/x%2Fy", "an encoded slash"],
    ["/api/..%5cv1", "an encoded slash"],
    ["/api/%2e%2e%2fv1%2fmodels", "an encoded slash"],
    ["/api/x/%2e%2e", "a dot segment"],
    ["/api/x/.%2e/y", "a dot segment"],
    ["/v1/models/..%2f..%2fapi%2fdelete", "a dot segment"],
    ["/v1/models/hf.co%2F%2e%2e", "a dot segment"],
    ["/api/blobs/..%2Fx", "a dot segment"],
  ])("%p: refused (%s)", (path, why) => {
    expect(unforwardable(path)).toBe(why);
  });

  test.each(["/api/tags", "/api/blobs/sha256:0123abcd", "/api/blobs/sha256%3A0123abcd", "/v1/models/llama3.2", "/v1/models/hf.co%2Fsomeone%2Fmodel:Q4", "/v1/models/someone/model", "/api/x/..a/b.", "/api/%zz"])("%p: forwarded", (path) => {
    expect(unforwardable(path)).toBeUndefined();
  });
});

describe("through foreman", () => {
  const stack = sharedStack();
  const asked = () => Object.entries(stack.sim.counters.requests).filter(([k]) => !k.includes("/api/tags") && !k.includes("/api/ps") && !k.includes("/api/version") && k !== "GET /" && k !== "HEAD /").reduce((n, [, v]) => n + v, 0);

  test.each([
    ["GET /api/..%2f..%2fv1%2fmodels", { error: "the path /api/..%2f..%2fv1%2fmodels has an encoded slash; foreman does not forward it" }],
    ["DELETE /api/x%2F..%2Fdelete", { error: "the path /api/x%2F..%2Fdelete has an encoded slash; foreman does not forward it" }],
    ["GET /v1/models/..%2f..%2fapi%2fps", { error: { message: "the path /v1/models/..%2f..%2fapi%2fps has a dot segment; foreman does not forward it", type: "invalid_request_error", param: null, code: null } }],
  ])("%s: 400 in the caller's dialect, the target not asked", async (line, body) => {
    const before = asked();
    const [method, path] = line.split(" ");
    const reply = await rawExchange(stack.foreman.port, `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual(body);
    expect(asked()).toBe(before);
  });

  test("a model name with encoded slashes in /v1/models/{id} still goes to the target", async () => {
    const res = await fetch(`${stack.url}/v1/models/someone%2Fghost`);
    expect(res.status).toBe(404); // the target's answer: it has no such model
    expect(stack.sim.counters.requests["GET /v1/models/someone%2Fghost"]).toBe(1);
  });
});
