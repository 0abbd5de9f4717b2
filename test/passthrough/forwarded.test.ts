// Nothing Ollama serves gets foreman's 404 (ADR 0031): a path foreman has no route for is
// forwarded — queued as inference when it is a POST whose JSON body names a model, straight to
// the target otherwise — and the multipart /v1/audio/transcriptions is queued with its body
// spooled to disk. Each compared with the simulator answering directly.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { spoolDir } from "../../src/passthrough/transcription.ts";
import { perTest, sharedStack, waitFor, workerBusy, type Stack } from "../harness.ts";

const stack = sharedStack({ sim: { tokenDelayMs: 1, loadMs: 5 } });
const start = perTest();

/** The spooled bodies waiting, none before the first upload made the folder. */
const spooled = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

const rows = (s: Stack, endpoint: string) => s.foreman.services.store.db.query("SELECT status FROM jobs WHERE endpoint = ?").all(endpoint) as { status: string }[];

/** Status, content type, length and body text: what a client can tell apart. */
async function seen(res: Response): Promise<[number, string | null, string | null, string]> {
  const text = await res.text();
  return [res.status, res.headers.get("content-type"), res.headers.get("content-length"), text];
}

describe("a POST foreman has no route for", () => {
  test("/v1/systemone (Ollama 0.35) names a model: queued as inference, its reply byte for byte the target's", async () => {
    const body = JSON.stringify({ model: "llama3.2", state: { turn: 3 }, questions: { go: { type: "noul", instructions: "go on?" }, mark: { type: "score" } } });
    const direct = await seen(await fetch(`${stack.sim.url}/v1/systemone`, { method: "POST", body }));
    const via = await seen(await fetch(`${stack.url}/v1/systemone`, { method: "POST", body }));
    expect(via).toEqual(direct);
    expect(direct[0]).toBe(200);
    expect(rows(stack, "/v1/systemone")).toEqual([{ status: "done" }]);
  });

  test("a newer /api endpoint whose body names a model is queued too; its errors are the target's", async () => {
    const before = rows(stack, "/api/newer").length;
    const via = await fetch(`${stack.url}/api/newer`, { method: "POST", body: JSON.stringify({ model: "llama3.2" }) });
    expect([via.status, await via.text()]).toEqual([404, "404 page not found"]);
    expect(rows(stack, "/api/newer").length).toBe(before + 1);
  });

  test("one whose body names no model goes straight through, not queued", async () => {
    for (const body of ['{"query":"weather"}', '{"model":""}', '{"model":5}', "[1,2]", "not json", ""]) {
      const key = "POST /api/experimental/web_search";
      const asked = stack.sim.counters.requests[key] ?? 0;
      const direct = await seen(await fetch(`${stack.sim.url}/api/experimental/web_search`, { method: "POST", body }));
      const via = await seen(await fetch(`${stack.url}/api/experimental/web_search`, { method: "POST", body }));
      expect({ body, via }).toEqual({ body, via: direct });
      expect(stack.sim.counters.requests[key]).toBe(asked + 2);
    }
    expect(rows(stack, "/api/experimental/web_search")).toEqual([]);
  });

  test("the exceptions go straight through whatever they name: /api/codex/*", async () => {
    const res = await fetch(`${stack.url}/api/codex/v1/responses`, { method: "POST", body: JSON.stringify({ model: "llama3.2", input: "hi" }) });
    expect([res.status, await res.text()]).toEqual([404, "404 page not found"]);
    expect(rows(stack, "/api/codex/v1/responses")).toEqual([]);
  });

  test("a queued unknown endpoint waits its turn: the target never runs two at once", async () => {
    const { sim, url } = await start.stack({ sim: { tokenDelayMs: 5, loadMs: 5 } });
    const long = fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], options: { num_predict: 40 } }) });
    const body = JSON.stringify({ model: "llama3.2", questions: { q: { type: "score" } } });
    const [a, b] = await Promise.all([long.then((r) => r.text()), fetch(`${url}/v1/systemone`, { method: "POST", body }).then((r) => r.status)]);
    expect(a).toContain('"done":true');
    expect(b).toBe(200);
    expect(sim.counters.maxConcurrent).toBe(1);
  });
});

describe("other methods and paths under /v1 and /api", () => {
  test("reach the target, which answers as Ollama does: its 404 and 405, /api/status", async () => {
    for (const [method, path] of [["GET", "/v1/nope"], ["GET", "/v1/chat/completions"], ["DELETE", "/v1/models"], ["HEAD", "/v1/responses"], ["GET", "/api/status"]] as const) {
      const direct = await seen(await fetch(`${stack.sim.url}${path}`, { method }));
      const via = await seen(await fetch(`${stack.url}${path}`, { method }));
      expect({ method, path, via }).toEqual({ method, path, via: direct });
    }
  });
});

describe("POST /v1/audio/transcriptions", () => {
  const clients = () => [new OpenAI({ baseURL: `${stack.sim.url}/v1`, apiKey: "x", maxRetries: 0 }), new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "x", maxRetries: 0 })] as const;
  const audio = (n = 64 * 1024) => toFile(new Uint8Array(n).map((_, i) => i % 251), "speech.wav");

  test("openai-node's transcriptions.create: the same through foreman as directly, json and text, queued", async () => {
    const before = rows(stack, "/v1/audio/transcriptions").length;
    const [direct, via] = clients();
    for (const response_format of ["json", "text"] as const) {
      const ask = async (c: OpenAI) => c.audio.transcriptions.create({ file: await audio(), model: "llama3.2", response_format, language: "en" });
      expect(await ask(via)).toEqual(await ask(direct));
    }
    expect(rows(stack, "/v1/audio/transcriptions").slice(before)).toEqual([{ status: "done" }, { status: "done" }]);
  });

  test("on the wire: the target's headers and bytes", async () => {
    const form = () => {
      const f = new FormData();
      f.append("model", "llama3.2");
      f.append("file", new Blob([new Uint8Array(5000).fill(3)]), "a.wav");
      return f;
    };
    const direct = await fetch(`${stack.sim.url}/v1/audio/transcriptions`, { method: "POST", body: form() });
    const via = await fetch(`${stack.url}/v1/audio/transcriptions`, { method: "POST", body: form() });
    expect(via.headers.get("content-type")).toBe(direct.headers.get("content-type"));
    expect(await via.text()).toBe(await direct.text());
  });

  test("refusals are the middleware's: no model, no multipart", async () => {
    const noModel = new FormData();
    noModel.append("file", new Blob([new Uint8Array(10)]), "a.wav");
    for (const init of [{ body: noModel }, { body: JSON.stringify({ model: "llama3.2" }) }] as RequestInit[]) {
      const direct = await seen(await fetch(`${stack.sim.url}/v1/audio/transcriptions`, { method: "POST", ...init }));
      const via = await seen(await fetch(`${stack.url}/v1/audio/transcriptions`, { method: "POST", ...init }));
      expect(via).toEqual(direct);
      expect(via[0]).toBe(400);
    }
  });

  test("the body waits its turn on disk, whole, then leaves; the body deadline is the upload's, not the wait's", async () => {
    const { url, foreman } = await start.stack({ sim: { tokenDelayMs: 5, loadMs: 5 }, foreman: { bodyTimeoutMs: 300 } });
    const dir = spoolDir(foreman.services.config.db);
    const long = fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], options: { num_predict: 150 } }) });
    await waitFor(() => workerBusy(foreman), { what: "the long chat to hold the worker" });
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    const size = 512 * 1024;
    const transcribed = client.audio.transcriptions.create({ file: await audio(size), model: "llama3.2" });
    const files = await waitFor(() => foreman.services.queue.waitingInteractive() === 1 && spooled(dir), { what: "the upload spooled and queued" });
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0]!)).size).toBeGreaterThan(size);
    // longer than the body deadline in the queue, and still answered
    await Bun.sleep(400);
    expect(foreman.services.queue.waitingInteractive()).toBe(1);
    await long.then((r) => r.text());
    expect(String(await transcribed)).toContain('"text"');
    await waitFor(() => spooled(dir).length === 0, { what: "the spooled body removed" });
  });

  test("a caller that leaves while queued takes its spooled body with it", async () => {
    const { url, foreman } = await start.stack({ sim: { tokenDelayMs: 5, loadMs: 5 } });
    const dir = spoolDir(foreman.services.config.db);
    const long = fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], options: { num_predict: 100 } }) });
    await waitFor(() => workerBusy(foreman), { what: "the long chat to hold the worker" });
    const form = new FormData();
    form.append("model", "llama3.2");
    form.append("file", new Blob([new Uint8Array(1000)]), "a.wav");
    const leaving = new AbortController();
    const gone = fetch(`${url}/v1/audio/transcriptions`, { method: "POST", body: form, signal: leaving.signal }).catch(() => null);
    await waitFor(() => spooled(dir).length === 1 && foreman.services.queue.waitingInteractive() === 1, { what: "the upload queued" });
    leaving.abort();
    await gone;
    await waitFor(() => spooled(dir).length === 0, { what: "the spooled body removed" });
    await long.then((r) => r.text());
  });
});
