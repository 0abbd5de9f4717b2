// The liveness probe on a socket of its own (ADR 0030): what it sends, and what it makes of the
// answer — against raw targets, so the test sees the bytes and not what fetch would make of them.
import { describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import { probeRequest, statusOf } from "../../src/target/probe.ts";
import { TargetClient } from "../../src/target/client.ts";
import { perTest } from "../harness.ts";

const start = perTest();

/** A raw target that records what it got and answers each request with `reply` (or nothing, when null). */
async function rawTarget(reply: string | null): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const server: Server = createServer((socket) => {
    socket.setEncoding("latin1");
    socket.on("error", () => {});
    socket.on("data", (d: string) => {
      got.push(d);
      if (reply !== null) socket.write(reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  start.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as { port: number }).port, got };
}

const client = (url: string, token?: string) => new TargetClient(url, { token, connectTimeoutMs: 300, firstByteTimeoutMs: 1000, idleTimeoutMs: 1000 });

describe("probeRequest and statusOf (pure)", () => {
  test("HEAD on the target's root with its Host, the headers given, and the connection closed", () => {
    const text = probeRequest(new URL("http://mac.local:11434"), new Headers({ authorization: "Bearer t", "accept-encoding": "identity", "content-type": "application/json" }));
    expect(text).toBe("HEAD / HTTP/1.1\r\nHost: mac.local:11434\r\naccept-encoding: identity\r\nauthorization: Bearer t\r\nConnection: close\r\n\r\n");
  });

  test("credentials in the URL become Basic auth unless a token is sent; a path prefix is kept", () => {
    expect(probeRequest(new URL("https://u:p%40ss@proxy.example/ollama"), new Headers())).toBe(
      `HEAD /ollama/ HTTP/1.1\r\nHost: proxy.example\r\nAuthorization: Basic ${btoa("u:p@ss")}\r\nConnection: close\r\n\r\n`,
    );
    expect(probeRequest(new URL("http://u:p@h:1"), new Headers({ authorization: "Bearer t" }))).not.toContain("Basic");
  });

  test("the status once the status line is complete", () => {
    expect(statusOf("HTTP/1.1 20")).toBeNull();
    expect(statusOf("HTTP/1.1 200 OK\r\n")).toBe(200);
    expect(statusOf("HTTP/1.0 503 Service Unavailable\r\nx: y")).toBe(503);
    expect(statusOf("SSH-2.0-OpenSSH\r\n")).toBe(0);
  });
});

describe("TargetClient.probe", () => {
  test("up on a status below 500, with the target token sent", async () => {
    const t = await rawTarget("HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n");
    expect(await client(`http://127.0.0.1:${t.port}`, "secret-token").probe()).toEqual({ up: true });
    expect(t.got.join("")).toStartWith("HEAD / HTTP/1.1\r\n");
    expect(t.got.join("")).toContain("authorization: Bearer secret-token\r\n");
  });

  test("down on a 5xx, on silence past the connect timeout, on a refused connection, on a reply that is not HTTP — each with its cause", async () => {
    expect(await client(`http://127.0.0.1:${(await rawTarget("HTTP/1.1 502 Bad Gateway\r\n\r\n")).port}`).probe()).toEqual({ up: false, cause: "HTTP 502" });
    expect(await client(`http://127.0.0.1:${(await rawTarget(null)).port}`).probe()).toEqual({ up: false, cause: "timed out" });
    expect(await client(`http://127.0.0.1:${(await rawTarget("garbage\r\n")).port}`).probe()).toEqual({ up: false, cause: "not an HTTP reply" });
    // port 1 on loopback: nothing listens there, the connection is refused
    expect(await client("http://127.0.0.1:1").probe()).toEqual({ up: false, cause: "connection refused" });
  });
});
