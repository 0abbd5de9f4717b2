// The built TypeScript client in a real browser (headless Chromium, Debian's `chromium`): a
// page on http://127.0.0.1:PORT — an origin foreman allows by default — runs a job and follows
// a job's events, through the CORS preflights foreman's own routes answer (Idempotency-Key,
// Prefer, Last-Event-ID allowed; Location, Preference-Applied exposed). A page whose origin
// foreman refuses gets one ForemanBlockedError, not a retry loop.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { $ } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startStack, tempDir, type Stack } from "../harness.ts";

setDefaultTimeout(120_000);

const root = join(import.meta.dir, "..", "..");
const chromium = Bun.which("chromium") ?? Bun.which("chromium-browser");
let stack: Stack;
let bundle: string;

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 5, loadMs: 20 } });
  await $`bun ${join(root, "scripts/build-client.ts")}`.quiet();
  bundle = readFileSync(join(root, "clients/ts/dist/index.js"), "utf8");
});

afterAll(async () => {
  await stack.stop();
});

/** The page's script: what it does in the browser, reported back to the page's server as JSON. */
const PAGE_SCRIPT = (foreman: string) => `
import { ForemanClient } from "/client.js";
const report = (result) => fetch("/result", { method: "POST", body: JSON.stringify(result) });
const foreman = new ForemanClient({ baseUrl: ${JSON.stringify(foreman)} });
try {
  const reply = await foreman.run({ request: { model: "llama3.2", messages: [{ role: "user", content: "hello" }] } }, { timeout: 60000 });
  const job = await foreman.submit({ request: { model: "llama3.2", messages: [{ role: "user", content: "tell me" }] } }, { idempotencyKey: "browser-1" });
  const events = [];
  for await (const e of foreman.events(job.id)) events.push(e.event);
  // the headers foreman's clients read, visible to a page only when exposed
  const raw = await fetch(${JSON.stringify(foreman)} + "/jobs", { method: "POST", headers: { "content-type": "application/json", prefer: "wait=30" }, body: JSON.stringify({ request: { model: "llama3.2", prompt: "x" }, endpoint: "/api/generate" }) });
  await report({ ok: true, role: reply.message.role, events, location: raw.headers.get("location"), preferenceApplied: raw.headers.get("preference-applied") });
} catch (e) {
  await report({ ok: false, name: e.name, message: e.message });
}`;

/** Serves the page and the built client on `host`, opens it in headless Chromium, and returns what the page reported. */
async function inBrowser(host: string): Promise<Record<string, unknown>> {
  const reported = Promise.withResolvers<Record<string, unknown>>();
  const page = Bun.serve({
    hostname: host,
    port: 0,
    fetch: async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/client.js") return new Response(bundle, { headers: { "content-type": "text/javascript" } });
      if (path === "/page.js") return new Response(PAGE_SCRIPT(stack.url), { headers: { "content-type": "text/javascript" } });
      if (path === "/result") {
        reported.resolve((await req.json()) as Record<string, unknown>);
        return new Response("ok");
      }
      return new Response(`<!doctype html><title>client</title><script type="module" src="/page.js"></script>`, { headers: { "content-type": "text/html" } });
    },
  });
  const profile = tempDir("foreman-chromium-");
  const browser = Bun.spawn([chromium!, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", `--user-data-dir=${profile.path}`, `http://${host}:${page.port}/`], { stdout: "ignore", stderr: "ignore" });
  try {
    const timeout = setTimeout(() => reported.reject(new Error(`the page on http://${host}:${page.port} reported nothing within 60 s`)), 60_000);
    const result = await reported.promise.finally(() => clearTimeout(timeout));
    return result;
  } finally {
    browser.kill("SIGKILL");
    await browser.exited;
    await page.stop(true);
    profile.remove();
  }
}

describe.skipIf(!chromium)("the TypeScript client in headless Chromium", () => {
  test("a page on http://127.0.0.1:PORT runs a job and follows a job's events", async () => {
    const result = await inBrowser("127.0.0.1");
    expect(result).toEqual({
      ok: true,
      role: "assistant",
      events: expect.arrayContaining(["job.queued", "job.done"]),
      location: expect.stringMatching(/^\/jobs\/\S+$/),
      preferenceApplied: "wait=30",
    });
    expect((result.events as string[]).at(-1)).toBe("job.done");
  });

  test("a page whose origin foreman refuses gets one ForemanBlockedError, not retries without end", async () => {
    // 127.0.0.2 is loopback too, but not one of the origins foreman allows by default
    const result = await inBrowser("127.0.0.2");
    expect(result).toMatchObject({ ok: false, name: "ForemanBlockedError" });
    expect(String(result.message)).toContain("allow the origin with FOREMAN_ORIGINS");
  });
});
