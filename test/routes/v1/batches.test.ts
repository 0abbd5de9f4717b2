// OpenAI files and batches on the durable queue (issue 19, ADR 0039), judged by the real openai
// package pointed at foreman: uploads, listings, a batch run to its result files (a failing line
// included), cancel, an invalid file, and a restart of foreman in the middle of a batch.
import { describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { createHash } from "node:crypto";
import { Database } from "bun:sqlite";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { filesDir } from "../../../src/store/location.ts";
import { startForeman } from "../../../src/server.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import { perTest, sharedStack, tempDir, testConfig, waitFor } from "../../harness.ts";
import { rawExchange } from "../../passthrough/raw-http.ts";

const MODELS = [{ name: "llama3.2" }, { name: "nomic-embed-text", kind: "embed" as const }];

const chatLine = (id: string, model = "llama3.2", content = `say ${id}`) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content }] } });
const jsonl = (lines: string[]) => `${lines.join("\n")}\n`;
const upload = async (client: OpenAI, text: string, name = "input.jsonl") => client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "batch" });
const untilEnded = (client: OpenAI, id: string) =>
  waitFor(
    async () => {
      const b = await client.batches.retrieve(id);
      return ["completed", "failed", "expired", "cancelled"].includes(b.status) && b;
    },
    { what: `batch ${id} to end`, timeoutMs: 20_000, intervalMs: 20 },
  );
const linesOf = async (client: OpenAI, fileId: string | null | undefined) => (fileId ? (await (await client.files.content(fileId)).text()).trim().split("\n").map((l) => JSON.parse(l)) : []);

describe("files and batches with FOREMAN_TOKEN", () => {
  const stack = sharedStack({ sim: { models: MODELS }, foreman: { token: "s3cret" } });
  const client = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "s3cret" });

  test("files.create stores the bytes on disk with their size and SHA-256; list, retrieve, content and delete", async () => {
    const text = jsonl([chatLine("a"), chatLine("b")]);
    const file = await upload(client(), text, "mine.jsonl");
    expect(file).toMatchObject({ object: "file", bytes: Buffer.byteLength(text), filename: "mine.jsonl", purpose: "batch" });
    const row = stack.foreman.services.files.get(file.id)!;
    expect(row.lines).toBe(2);
    expect(row.sha256).toBe(createHash("sha256").update(text).digest("hex"));
    expect(await Bun.file(stack.foreman.services.files.path(file.id)).text()).toBe(text);
    expect((await client().files.retrieve(file.id)).id).toBe(file.id);
    expect(await (await client().files.content(file.id)).text()).toBe(text);
    const listed: string[] = [];
    for await (const f of client().files.list({ purpose: "batch", limit: 1 })) listed.push(f.id);
    expect(listed).toContain(file.id);
    expect(await client().files.delete(file.id)).toEqual({ id: file.id, object: "file", deleted: true });
    expect(await Bun.file(stack.foreman.services.files.path(file.id)).exists()).toBe(false);
    expect(await client().files.retrieve(file.id).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("without the token the upload is refused (401), and nothing is stored", async () => {
    const before = (await client().files.list()).data.length;
    const refused = await upload(new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "wrong", maxRetries: 0 }), jsonl([chatLine("a")])).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((await client().files.list()).data.length).toBe(before);
  });

  test("a file over 50,000 lines is a 400 naming the limit; purpose other than batch is a 400", async () => {
    const big = "{}\n".repeat(50_001);
    const refused = await upload(client(), big).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.message).toContain("50000 lines");
    // a refused upload leaves nothing behind: no row, no partial file
    expect(readdirSync(stack.foreman.services.files.dir).filter((n) => n.endsWith(".part"))).toEqual([]);
    const other = await client()
      .files.create({ file: await toFile(Buffer.from("{}\n"), "x.jsonl"), purpose: "fine-tune" })
      .catch((e) => e);
    expect(other).toBeInstanceOf(OpenAI.BadRequestError);
    expect(other.error.param).toBe("purpose");
  });

  test("a batch runs its lines as jobs: a target 4xx is an error-file line, the batch still completes with counts and usage", async () => {
    const c = client();
    const file = await upload(c, jsonl([chatLine("one"), chatLine("two"), chatLine("missing", "no-such-model")]));
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { run: "t1" } });
    expect(created).toMatchObject({ object: "batch", status: "validating", endpoint: "/v1/chat/completions", input_file_id: file.id, metadata: { run: "t1" } });
    const ended = await untilEnded(c, created.id);
    expect(ended.status).toBe("completed");
    expect(ended.request_counts).toEqual({ total: 3, completed: 2, failed: 1 });
    expect(ended.in_progress_at).toBeNumber();
    expect(ended.finalizing_at).toBeNumber();
    expect(ended.usage!.output_tokens).toBeGreaterThan(0);
    expect(ended.usage!.total_tokens).toBe(ended.usage!.input_tokens + ended.usage!.output_tokens);
    const output = await linesOf(c, ended.output_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(["one", "two"]);
    for (const l of output) {
      expect(l.response.status_code).toBe(200);
      expect(l.response.body.object).toBe("chat.completion");
      expect(l.error).toBeNull();
    }
    const errors = await linesOf(c, ended.error_file_id);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ custom_id: "missing", response: { status_code: 404 } });
    expect((await c.files.retrieve(ended.output_file_id!)).purpose).toBe("batch_output");
    // the lines are ordinary jobs, below plain work
    const jobs = [...stack.foreman.services.queue.db.query<{ priority: number; custom_id: string }, [string]>("SELECT priority, custom_id FROM jobs WHERE batch_id = ?").all(created.id)];
    expect(jobs.map((j) => j.custom_id).sort()).toEqual(["missing", "one", "two"]);
    expect(jobs.every((j) => j.priority === -1000)).toBe(true);
    const listed = (await (await fetch(`${stack.url}/jobs?limit=500`, { headers: { authorization: "Bearer s3cret" } })).json()) as { jobs: { metadata: { batch_id?: string; custom_id?: string } | null }[] };
    expect(listed.jobs.filter((j) => j.metadata?.batch_id === created.id).map((j) => j.metadata!.custom_id).sort()).toEqual(["missing", "one", "two"]);
  });

  test("an invalid file ends the batch failed with errors.data naming each bad line, and queues nothing", async () => {
    const c = client();
    const lines = [chatLine("ok"), "not json", chatLine("ok"), JSON.stringify({ custom_id: "u", method: "POST", url: "/v1/embeddings", body: {} }), JSON.stringify({ custom_id: "s", method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [], stream: true } }), JSON.stringify({ custom_id: "m", method: "POST", url: "/v1/chat/completions", body: { messages: [] } })];
    const file = await upload(c, jsonl(lines));
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const ended = await untilEnded(c, created.id);
    expect(ended.status).toBe("failed");
    expect(ended.failed_at).toBeNumber();
    const bad = ended.errors!.data!.map((e) => [e.line, e.code, e.param]);
    expect(bad).toEqual([
      [2, "invalid_json_line", null],
      [3, "duplicate_custom_id", "custom_id"],
      [4, "mismatched_url", "url"],
      [5, "invalid_request", "body.stream"],
      [6, "invalid_request", "body.model"],
    ]);
    expect(stack.foreman.services.queue.db.query("SELECT count(*) AS n FROM jobs WHERE batch_id = ?").get(created.id)).toEqual({ n: 0 });
  });

  test("creation refuses an endpoint a batch cannot name, a bad window and an unknown file, in OpenAI's envelope", async () => {
    const c = client();
    const file = await upload(c, jsonl([chatLine("a")]));
    const endpoint = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/moderations" as "/v1/chat/completions", completion_window: "24h" }).catch((e) => e);
    expect(endpoint).toBeInstanceOf(OpenAI.BadRequestError);
    expect(endpoint.error.param).toBe("endpoint");
    const window = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "soon" as "24h" }).catch((e) => e);
    expect(window).toBeInstanceOf(OpenAI.BadRequestError);
    expect(window.error.param).toBe("completion_window");
    expect(await c.batches.create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" }).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
  });

  test("batches.list pages with after= as openai-node's CursorPage walks it, newest first", async () => {
    const c = client();
    const file = await upload(c, jsonl([JSON.stringify({ custom_id: "e", method: "POST", url: "/v1/embeddings", body: { model: "nomic-embed-text", input: "hi" } })]));
    const made: string[] = [];
    for (let i = 0; i < 3; i++) made.push((await c.batches.create({ input_file_id: file.id, endpoint: "/v1/embeddings", completion_window: "1h" as "24h" })).id);
    const first = await c.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([made[2]!, made[1]!]);
    expect(first.has_more).toBe(true);
    const seen: string[] = [];
    for await (const b of c.batches.list({ limit: 2 })) seen.push(b.id);
    expect(seen.slice(0, 3)).toEqual(made.toReversed());
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of made) expect((await untilEnded(c, id)).status).toBe("completed");
  });
});

describe("cancel and restart", () => {
  const start = perTest();
  /** A simulator and the config of a foreman on a database of its own, for tests that stop foreman and start it again on it. */
  const restartableConfig = async () => {
    const sim = await startSimulator({ models: MODELS, tokenDelayMs: 5, loadMs: 5 });
    start.defer(() => sim.stop());
    const dir = tempDir();
    start.defer(() => dir.remove());
    return testConfig({ target: sim.url }, dir.path);
  };

  test("without a token: cancel stops the queued lines at once, the batch ends cancelled; cancelling it again is a 409 not retried", async () => {
    const stack = await start.stack({ sim: { models: MODELS, tokenDelayMs: 50 } });
    const c = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const file = await upload(c, jsonl(Array.from({ length: 6 }, (_, i) => chatLine(`c${i}`, "llama3.2", "tell me a long story"))));
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await waitFor(async () => (await c.batches.retrieve(created.id)).status === "in_progress", { what: "the batch in progress" });
    const cancelling = await c.batches.cancel(created.id);
    expect(["cancelling", "cancelled"]).toContain(cancelling.status);
    expect(cancelling.cancelling_at).toBeNumber();
    const ended = await untilEnded(c, created.id);
    expect(ended.status).toBe("cancelled");
    expect(ended.request_counts!.total).toBe(6);
    const results = [...(await linesOf(c, ended.output_file_id)), ...(await linesOf(c, ended.error_file_id))];
    expect(results.map((l) => l.custom_id).sort()).toEqual(["c0", "c1", "c2", "c3", "c4", "c5"]);
    expect(results.filter((l) => l.error?.code === "batch_cancelled").length).toBeGreaterThanOrEqual(5);
    let calls = 0;
    const counting = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", fetch: (input, init) => (calls++, fetch(input, init)) });
    const again = await counting.batches.cancel(created.id).catch((e) => e);
    expect(again).toBeInstanceOf(OpenAI.ConflictError);
    expect(calls).toBe(1);
  });

  test("a file a killed foreman renamed into place but never recorded is removed at the next start; recorded files stay", async () => {
    const config = await restartableConfig();
    let foreman = await startForeman(config);
    const c = new OpenAI({ baseURL: `${foreman.url}/v1`, apiKey: "none" });
    const kept = await upload(c, jsonl([chatLine("a")]));
    await foreman.stop();
    // what a SIGKILL between a result file's rename and its row's commit leaves behind
    const orphan = join(filesDir(config.db), "file-orphan");
    writeFileSync(orphan, '{"custom_id":"x"}\n');
    foreman = await startForeman(config);
    start.defer(() => foreman.stop());
    expect(existsSync(orphan)).toBe(false);
    expect(existsSync(join(filesDir(config.db), kept.id))).toBe(true);
  });

  test("a restart of foreman mid-batch: the batch resumes on the same database and completes, no line twice", async () => {
    const config = await restartableConfig();
    let foreman = await startForeman(config);
    let c = new OpenAI({ baseURL: `${foreman.url}/v1`, apiKey: "none" });
    const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const file = await upload(c, jsonl(ids.map((id) => chatLine(id))));
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await waitFor(async () => (await c.batches.retrieve(created.id)).request_counts!.completed >= 3, { what: "some lines done" });
    await foreman.stop();
    const doneAtStop = new Database(config.db, { readonly: true });
    const left = doneAtStop.query<{ n: number }, []>("SELECT count(*) AS n FROM jobs WHERE batch_id IS NOT NULL AND status <> 'done'").get()!.n;
    doneAtStop.close();
    expect(left).toBeGreaterThan(0);
    foreman = await startForeman(config);
    start.defer(() => foreman.stop());
    c = new OpenAI({ baseURL: `${foreman.url}/v1`, apiKey: "none" });
    const ended = await untilEnded(c, created.id);
    expect(ended.status).toBe("completed");
    expect(ended.request_counts).toEqual({ total: 20, completed: 20, failed: 0 });
    const output = await linesOf(c, ended.output_file_id);
    expect(output.map((l) => l.custom_id).sort()).toEqual(ids.toSorted());
    expect(ended.error_file_id).toBeNull();
    expect(ended.model).toBe("llama3.2");
  });
});

describe("upload limits", () => {
  const stack = sharedStack({ sim: { models: MODELS }, foreman: { maxBodyBytes: 4096 } });

  test("an upload is exempt from FOREMAN_MAX_BODY_BYTES; a declared body over 200 MB is a 413 in OpenAI's envelope naming the limit", async () => {
    const c = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const text = jsonl(Array.from({ length: 200 }, (_, i) => chatLine(`big${i}`)));
    expect(Buffer.byteLength(text)).toBeGreaterThan(4096);
    expect((await upload(c, text)).bytes).toBe(Buffer.byteLength(text));
    // the head declares more than the limit; the body never comes
    const reply = await rawExchange(stack.foreman.port, `POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1:${stack.foreman.port}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${300 * 1024 * 1024}\r\n\r\n--b\r\n`);
    expect(reply.status).toBe(413);
    const envelope = JSON.parse(reply.body);
    expect(envelope.error).toMatchObject({ type: "invalid_request_error", param: "file" });
    expect(envelope.error.message).toContain("200 MB");
  });
});

describe("the completion window", () => {
  const start = perTest();

  test("lines not started when the window ends are canceled: the batch ends expired, finished lines in the output file, the rest batch_expired", async () => {
    const stack = await start.stack({ sim: { models: MODELS, tokenDelayMs: 40 } });
    const c = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const ids = ["x0", "x1", "x2", "x3", "x4"];
    const file = await upload(c, jsonl(ids.map((id) => chatLine(id, "llama3.2", "tell me a long story"))));
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "1s" as "24h" });
    expect(created.expires_at! - created.created_at).toBe(1);
    const ended = await untilEnded(c, created.id);
    expect(ended.status).toBe("expired");
    expect(ended.expired_at).toBeNumber();
    const output = await linesOf(c, ended.output_file_id);
    const errors = await linesOf(c, ended.error_file_id);
    expect([...output, ...errors].map((l) => l.custom_id).sort()).toEqual(ids);
    expect(output.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    for (const e of errors) expect(e).toMatchObject({ response: null, error: { code: "batch_expired" } });
    expect(ended.request_counts).toEqual({ total: 5, completed: output.length, failed: errors.length });
  });

  test("job retention keeps the lines of a batch that has not ended, and prunes them once it has", async () => {
    const stack = await start.stack({ sim: { models: MODELS, tokenDelayMs: 40 } });
    const c = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const file = await upload(c, jsonl(["p0", "p1", "p2"].map((id) => chatLine(id, "llama3.2", "tell me a long story"))));
    const created = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await waitFor(async () => (await c.batches.retrieve(created.id)).request_counts!.completed >= 1, { what: "a line done" });
    const { queue } = stack.foreman.services;
    const lines = () => queue.db.query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs WHERE batch_id = ?").get(created.id)!.n;
    queue.prune(Date.now() + 60_000);
    expect(lines()).toBe(3);
    const ended = await untilEnded(c, created.id);
    expect((await linesOf(c, ended.output_file_id)).length).toBe(3);
    queue.prune(Date.now() + 60_000);
    expect(lines()).toBe(0);
  });
});
