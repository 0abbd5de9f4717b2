// Ollama's origin and Host policy at foreman's edge (ADR 0019): browser-like requests carrying
// Origin (allowed, refused, webview schemes, preflights with the OpenAI SDK's headers, a
// configured wildcard) on /api/*, /v1/* and /jobs, and the Host guard of a loopback listener.
import { describe, expect, test } from "bun:test";
import { perTest, sharedStack } from "../harness.ts";

const chat = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], stream: false });
const job = JSON.stringify({ endpoint: "/api/chat", request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } });

/** What a browser sends for a "simple" cross-origin POST: text/plain, so no preflight is made. */
const simplePost = (url: string, body: string, origin: string) => fetch(url, { method: "POST", body, headers: { origin, "content-type": "text/plain;charset=UTF-8" } });

const jobRows = (stack: { foreman: { services: { store: { db: { query(sql: string): { get(): unknown } } } } } }) =>
  (stack.foreman.services.store.db.query("SELECT count(*) AS n FROM jobs").get() as { n: number }).n;

describe("browser origins (FOREMAN_ORIGINS unset: Ollama's defaults)", () => {
  const stack = sharedStack();

  test.each([
    ["GET", "/api/tags", undefined],
    ["GET", "/v1/models", undefined],
    ["POST", "/api/chat", chat],
    ["POST", "/v1/chat/completions", chat],
    ["GET", "/jobs", undefined],
    ["GET", "/healthz", undefined],
  ])("an allowed origin gets its reply with Access-Control-Allow-Origin: %s %s", async (method, path, body) => {
    for (const origin of ["http://localhost:5173", "http://127.0.0.1:3000", "tauri://localhost", "vscode-webview://1abc2def", "app://obsidian.md"]) {
      const res = await fetch(`${stack.url}${path}`, { method, body, headers: { origin, "content-type": "application/json" } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(res.headers.get("vary")).toBe("Origin");
      await res.arrayBuffer();
    }
  });

  test("an allowed origin's async job is accepted; the webview gets the ACAO header on the 202", async () => {
    const res = await fetch(`${stack.url}/jobs`, { method: "POST", body: job, headers: { origin: "vscode-webview://1abc2def", "content-type": "application/json" } });
    expect(res.status).toBe(202);
    expect(res.headers.get("access-control-allow-origin")).toBe("vscode-webview://1abc2def");
  });

  test("a web page's simple cross-origin POST (text/plain JSON) is refused before anything runs: 403, empty body", async () => {
    const jobsBefore = jobRows(stack);
    const pullsBefore = stack.sim.counters.requests["POST /api/pull"] ?? 0;
    for (const [path, body] of [
      ["/api/pull", JSON.stringify({ model: "llama3.2" })],
      ["/api/create", JSON.stringify({ model: "evil", from: "llama3.2" })],
      ["/api/chat", chat],
      ["/v1/chat/completions", chat],
      ["/jobs", job],
    ] as const) {
      const res = await simplePost(`${stack.url}${path}`, body, "https://evil.example");
      expect({ path, status: res.status, body: await res.text(), acao: res.headers.get("access-control-allow-origin") }).toEqual({ path, status: 403, body: "", acao: null });
    }
    expect(jobRows(stack)).toBe(jobsBefore);
    expect(stack.sim.counters.requests["POST /api/pull"] ?? 0).toBe(pullsBefore);
  });

  test.each(["https://evil.example", "null", "http://localhost.evil.example", "chrome-extension://abcdef"])("origin %s is refused on every kind of route", async (origin) => {
    for (const [method, path] of [
      ["GET", "/api/tags"],
      ["GET", "/v1/models"],
      ["GET", "/jobs"],
      ["GET", "/healthz"],
      ["GET", "/no/such/route"],
      ["OPTIONS", "/api/chat"],
    ] as const) {
      const res = await fetch(`${stack.url}${path}`, { method, headers: { origin } });
      expect({ path, method, status: res.status, body: await res.text() }).toEqual({ path, method, status: 403, body: "" });
    }
  });

  test("a preflight for the OpenAI SDK's headers is answered 204 with Ollama's allowed methods and headers, on /v1 and /api", async () => {
    for (const path of ["/v1/chat/completions", "/api/chat"]) {
      const res = await fetch(`${stack.url}${path}`, {
        method: "OPTIONS",
        headers: {
          origin: "http://localhost:5173",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type,x-stainless-arch,x-stainless-os,x-stainless-retry-count,x-stainless-timeout",
        },
      });
      expect(res.status).toBe(204);
      expect(await res.text()).toBe("");
      expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
      const allowed = res.headers.get("access-control-allow-headers")!.toLowerCase().split(",");
      for (const h of ["authorization", "content-type", "x-stainless-arch", "x-stainless-os", "x-stainless-retry-count", "x-stainless-timeout", "openai-beta"]) expect(allowed).toContain(h);
      expect(res.headers.get("access-control-max-age")).toBe("43200");
    }
  });

  test("on foreman's own routes a preflight allows the headers foreman's API defines, and replies expose the ones its clients read", async () => {
    for (const path of ["/jobs", "/jobs/x/events", "/status"]) {
      const res = await fetch(`${stack.url}${path}`, {
        method: "OPTIONS",
        headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,idempotency-key,prefer,last-event-id" },
      });
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type,Accept,Idempotency-Key,Prefer,Last-Event-ID,Cache-Control,X-Request-Id");
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS");
    }
    const posted = await fetch(`${stack.url}/jobs`, { method: "POST", headers: { origin: "http://localhost:5173", "content-type": "application/json" }, body: JSON.stringify({ request: { model: "llama3.2", prompt: "x" }, endpoint: "/api/generate" }) });
    expect(posted.status).toBe(202);
    expect(posted.headers.get("access-control-expose-headers")!.split(",")).toEqual(expect.arrayContaining(["Location", "Preference-Applied", "Retry-After"]));
    await posted.arrayBuffer();
    // the routes that imitate Ollama expose nothing, as Ollama does
    const tags = await fetch(`${stack.url}/api/tags`, { headers: { origin: "http://localhost:5173" } });
    expect(tags.headers.get("access-control-expose-headers")).toBeNull();
    await tags.arrayBuffer();
  });

  test("foreman's own 404, 405 and validation errors carry the CORS headers too", async () => {
    const origin = "http://localhost:5173";
    const notFound = await fetch(`${stack.url}/no/such/route`, { headers: { origin } });
    const notAllowed = await fetch(`${stack.url}/api/chat`, { method: "PUT", headers: { origin } });
    const badJson = await fetch(`${stack.url}/api/chat`, { method: "POST", body: "{", headers: { origin } });
    const badJob = await fetch(`${stack.url}/jobs`, { method: "POST", body: "{}", headers: { origin } });
    for (const [res, status] of [
      [notFound, 404],
      [notAllowed, 405],
      [badJson, 400],
      [badJob, 400],
    ] as const) {
      expect(res.status).toBe(status);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      await res.arrayBuffer();
    }
  });

  test("OPTIONS without Origin is not CORS: 405 as gin answers it", async () => {
    const res = await fetch(`${stack.url}/api/chat`, { method: "OPTIONS" });
    expect(res.status).toBe(405);
    expect(await res.text()).toBe("405 method not allowed");
  });
});

describe("configured origins", () => {
  const start = perTest();

  test("a wildcard entry (entries trimmed) lets that origin through, and the target never sees the Origin", async () => {
    const stack = await start.stack({ foreman: { origins: "https://notes.example.com, https://*.corp.lan" } });
    for (const origin of ["https://notes.example.com", "https://wiki.corp.lan"]) {
      const res = await fetch(`${stack.url}/api/chat`, { method: "POST", body: chat, headers: { origin } });
      // the simulator applies Ollama's own policy: it would refuse this origin with a 403
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe(origin);
      expect(((await res.json()) as { done: boolean }).done).toBe(true);
    }
    const refused = await fetch(`${stack.url}/api/tags`, { headers: { origin: "https://other.example.com" } });
    expect(refused.status).toBe(403);
  });

  test("* allows any origin, answered with Access-Control-Allow-Origin: *", async () => {
    const stack = await start.stack({ foreman: { origins: "*" } });
    const res = await fetch(`${stack.url}/v1/models`, { headers: { origin: "https://anything.example" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("vary")).toBeNull();
  });

  test("a bad entry stops start-up with a message naming the setting", async () => {
    await expect(start.stack({ foreman: { origins: "example.com" } })).rejects.toThrow(/FOREMAN_ORIGINS.*bad origin/);
  });
});

describe("Host names (DNS rebinding)", () => {
  const start = perTest();

  test("listening on 127.0.0.1: a Host off Ollama's list is refused on every route; local names and addresses pass", async () => {
    const stack = await start.stack();
    const port = new URL(stack.url).port;
    for (const host of ["evil.example", `evil.example:${port}`, "localhost.evil.example", "8.8.8.8"]) {
      for (const path of ["/api/tags", "/jobs", "/healthz", "/v1/models"]) {
        const res = await fetch(`${stack.url}${path}`, { headers: { host } });
        expect({ host, path, status: res.status, body: await res.text() }).toEqual({ host, path, status: 403, body: "" });
      }
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "app.localhost", "printer.local", "ollama.internal", "192.168.1.10", `[::1]:${port}`]) {
      const res = await fetch(`${stack.url}/api/tags`, { headers: { host } });
      expect({ host, status: res.status }).toEqual({ host, status: 200 });
      await res.arrayBuffer();
    }
  });

  test("listening on 0.0.0.0 there is no Host check (as with Ollama bound to every interface)", async () => {
    const stack = await start.stack({ foreman: { host: "0.0.0.0" } });
    const res = await fetch(`${stack.url}/api/tags`, { headers: { host: "evil.example" } });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
