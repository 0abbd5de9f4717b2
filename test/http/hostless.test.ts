// A request without a Host header — legal in HTTP/1.0, and what HAProxy's default health check
// sends — reaches foreman with a URL that has no origin. /healthz answers it (the process is
// alive); any other route answers 400 in its caller's dialect, never a 500 from below the edge.
// Raw sockets: an HTTP client library always sends Host.
import { describe, expect, test } from "bun:test";
import { sharedStack } from "../harness.ts";
import { rawExchange } from "../passthrough/raw-http.ts";

const stack = sharedStack();

const hostless = (request: string) => rawExchange(stack.foreman.port, request, 2000);

describe("a request without Host", () => {
  test("GET /healthz over HTTP/1.0: 200, alive", async () => {
    const reply = await hostless("GET /healthz HTTP/1.0\r\n\r\n");
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ status: "ok" });
  });

  test.each([
    ["GET /status HTTP/1.0\r\n\r\n", (body: string) => expect(JSON.parse(body).error.message).toContain("Host")],
    ["GET /api/tags HTTP/1.0\r\n\r\n", (body: string) => expect(JSON.parse(body).error).toContain("Host")],
    ["POST /api/chat HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}", (body: string) => expect(JSON.parse(body).error).toContain("Host")],
    ["GET /v1/models HTTP/1.0\r\n\r\n", (body: string) => expect(JSON.parse(body).error.message).toContain("Host")],
  ])("%j: 400 in the route's dialect, naming the missing header", async (request, check) => {
    const reply = await hostless(request);
    expect(reply.status).toBe(400);
    check(reply.body);
  });

  test("HTTP/1.1 without Host is refused below foreman with a 400, as the protocol requires", async () => {
    const reply = await hostless("GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
    expect(reply.status).toBe(400);
  });
});
