import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startSimulator, type Simulator } from "../../src/sim/index.ts";
import { post } from "../wire.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, tokenDelayMs: 1, loadMs: 1, origins: "https://app.example,https://*.corp.test" });
});
afterAll(() => sim.stop());

const get = (path: string, headers: Record<string, string>, method = "GET") => fetch(`${sim.url}${path}`, { method, headers });

describe("Host allow-list on a loopback listener (§6.4)", () => {
  test("a foreign Host is 403 with an empty body, before any route", async () => {
    for (const path of ["/api/version", "/api/nothing", "/v1/models"]) {
      const res = await get(path, { Host: "evil.example" });
      expect([res.status, res.headers.get("content-type"), await res.text()]).toEqual([403, null, ""]);
    }
    expect(sim.counters.requests["GET /api/version"]).toBeUndefined();
  });

  test("localhost, local names and loopback/private IPs pass", async () => {
    for (const host of [`localhost:${sim.port}`, "ollama.internal", `127.0.0.1:${sim.port}`, "192.168.0.10", "[::1]:1"]) {
      expect((await get("/api/version", { Host: host })).status).toBe(200);
    }
  });

  test("OPTIONS to an allowed name is 204; to a loopback IP it reaches the router (405)", async () => {
    const named = await get("/api/chat", { Host: "localhost" }, "OPTIONS");
    expect([named.status, await named.text()]).toEqual([204, ""]);
    const ip = await get("/api/chat", {}, "OPTIONS");
    expect([ip.status, await ip.text()]).toEqual([405, "405 method not allowed"]);
  });

  test("clients that reach the simulator at 127.0.0.1:port are unaffected", async () => {
    expect((await new Ollama({ host: sim.url }).version()).version).toBe("0.33.0");
    const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "x", maxRetries: 0 });
    expect((await openai.models.list()).data.length).toBeGreaterThan(0);
  });

  test("off when listening on a non-loopback address", async () => {
    const open = await startSimulator({ port: 0, hostname: "0.0.0.0", tokenDelayMs: 1, loadMs: 1 });
    try {
      const res = await fetch(`http://127.0.0.1:${open.port}/api/version`, { headers: { Host: "evil.example" } });
      expect(res.status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});

describe("CORS (§6.3)", () => {
  test("an origin off the list is 403 with an empty body, also for preflights", async () => {
    for (const method of ["GET", "OPTIONS"]) {
      const res = await get("/api/tags", { Origin: "https://evil.example" }, method);
      expect([res.status, await res.text(), res.headers.get("access-control-allow-origin")]).toEqual([403, "", null]);
    }
  });

  test("preflight from a default origin: 204 with gin-contrib/cors's headers", async () => {
    const res = await get("/api/chat", { Origin: "http://localhost:5173", "Access-Control-Request-Method": "POST" }, "OPTIONS");
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
    expect(res.headers.get("access-control-allow-headers")?.split(",")).toContain("X-Stainless-Retry-Count");
    expect(res.headers.get("access-control-max-age")).toBe("43200");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });

  test("an allowed origin's real request carries the echoed origin and Vary", async () => {
    const res = await post(`${sim.url}/api/generate`, { model: "llama3.2", prompt: "hi", stream: false }, { headers: { Origin: "https://x.corp.test" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://x.corp.test");
    expect(res.headers.get("vary")).toBe("Origin");
    await res.text();
    const configured = await get("/api/version", { Origin: "https://app.example" });
    expect(configured.headers.get("access-control-allow-origin")).toBe("https://app.example");
  });

  test("an Origin equal to http://<Host> is not CORS", async () => {
    const res = await get("/api/version", { Origin: `http://127.0.0.1:${sim.port}` });
    expect([res.status, res.headers.get("access-control-allow-origin")]).toEqual([200, null]);
  });

  test("origins '*' answers with Access-Control-Allow-Origin: *", async () => {
    const any = await startSimulator({ port: 0, origins: "*" });
    try {
      const res = await fetch(`${any.url}/api/version`, { headers: { Origin: "https://anything.example" } });
      expect([res.status, res.headers.get("access-control-allow-origin"), res.headers.get("vary")]).toEqual([200, "*", null]);
    } finally {
      await any.stop();
    }
  });

  test("an origins value Ollama would refuse at startup fails the start", async () => {
    await expect(startSimulator({ port: 0, origins: "example.com" })).rejects.toThrow("bad origin");
  });
});
