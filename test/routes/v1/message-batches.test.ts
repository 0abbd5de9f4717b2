// Anthropic message batches on the batch engine (issue 19, ADR 0039), judged by the real
// @anthropic-ai/sdk pointed at foreman, unchanged: create, retrieve, list, results, delete, a
// failing request (errored), a cancelled batch, refusals in Anthropic's dialect, the body limit
// apart from FOREMAN_MAX_BODY_BYTES, the route beside the /v1/messages passthrough, and a restart.
import { describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import { Database } from "bun:sqlite";
import { startForeman } from "../../../src/server.ts";
import { startSimulator } from "../../../src/sim/index.ts";
import { ASYNC } from "../../../src/queue/queue.ts";
import { messageBatchObject, messageResultLine } from "../../../src/engine/batches.ts";
import type { BatchRecord } from "../../../src/queue/batches.ts";
import { RequestsSplitter } from "../../../src/http/message-batch-body.ts";
import { perTest, sharedStack, tempDir, testConfig, waitFor } from "../../harness.ts";
import { rawExchange } from "../../passthrough/raw-http.ts";

const MODELS = [{ name: "llama3.2" }];

const request = (id: string, model = "llama3.2", content = `say ${id}`) => ({ custom_id: id, params: { model, max_tokens: 64, messages: [{ role: "user" as const, content }] } });
const untilEnded = (client: Anthropic, id: string) =>
  waitFor(
    async () => {
      const b = await client.messages.batches.retrieve(id);
      return b.processing_status === "ended" && b;
    },
    { what: `message batch ${id} to end`, timeoutMs: 20_000, intervalMs: 20 },
  );
const resultsOf = async (client: Anthropic, id: string) => {
  const all = [];
  for await (const r of await client.messages.batches.results(id)) all.push(r);
  return all;
};

describe("message batches with FOREMAN_TOKEN (x-api-key)", () => {
  const stack = sharedStack({ sim: { models: MODELS }, foreman: { token: "s3cret" } });
  const client = () => new Anthropic({ baseURL: stack.url, apiKey: "s3cret" });

  test("create, retrieve, results (one errored request), list and delete", async () => {
    const c = client();
    const created = await c.messages.batches.create({ requests: [request("one"), request("two"), request("missing", "no-such-model")] });
    expect(created).toMatchObject({ type: "message_batch", processing_status: "in_progress", request_counts: { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 }, ended_at: null, results_url: null });
    expect(created.id).toStartWith("msgbatch_");
    expect(Date.parse(created.expires_at) - Date.parse(created.created_at)).toBe(24 * 3_600_000);
    const ended = await untilEnded(c, created.id);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 });
    expect(ended.ended_at).toBeString();
    expect(ended.results_url).toBe(`${stack.url}/v1/messages/batches/${created.id}/results`);
    const results = await resultsOf(c, created.id);
    expect(results.map((r) => r.custom_id).sort()).toEqual(["missing", "one", "two"]);
    const one = results.find((r) => r.custom_id === "one")!.result;
    expect(one.type).toBe("succeeded");
    if (one.type === "succeeded") expect(one.message).toMatchObject({ type: "message", role: "assistant", model: "llama3.2" });
    const missing = results.find((r) => r.custom_id === "missing")!.result;
    expect(missing).toMatchObject({ type: "errored", error: { type: "error", error: { type: "not_found_error" } } });
    // each request ran as an async /v1/messages job of the batch
    const jobs = stack.foreman.services.queue.db.query<{ endpoint: string; lane: number }, [string]>("SELECT endpoint, lane FROM jobs WHERE batch_id = ?").all(created.id);
    expect(jobs).toEqual(Array.from({ length: 3 }, () => ({ endpoint: "/v1/messages", lane: ASYNC })));

    const listed: string[] = [];
    for await (const b of c.messages.batches.list({ limit: 1 })) listed.push(b.id);
    expect(listed).toContain(created.id);
    // OpenAI's listing does not show it, nor does its lookup find it
    const openaiList = (await (await fetch(`${stack.url}/v1/batches`, { headers: { authorization: "Bearer s3cret" } })).json()) as { data: { id: string }[] };
    expect(openaiList.data.map((b) => b.id)).not.toContain(created.id);
    expect((await fetch(`${stack.url}/v1/batches/${created.id}`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(404);

    const { files } = stack.foreman.services;
    const owned = [stack.foreman.services.batches.get(created.id)!.inputFileId, stack.foreman.services.batches.get(created.id)!.outputFileId!];
    // its requests and results are not OpenAI files: neither listed nor found under /v1/files
    const openaiFiles = (await (await fetch(`${stack.url}/v1/files`, { headers: { authorization: "Bearer s3cret" } })).json()) as { data: { id: string }[] };
    for (const id of owned) {
      expect(openaiFiles.data.map((f) => f.id)).not.toContain(id);
      expect((await fetch(`${stack.url}/v1/files/${id}/content`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(404);
    }
    expect(await c.messages.batches.delete(created.id)).toEqual({ id: created.id, type: "message_batch_deleted" });
    expect(await c.messages.batches.retrieve(created.id).catch((e) => e)).toBeInstanceOf(Anthropic.NotFoundError);
    for (const id of owned) {
      expect(files.get(id)).toBeNull();
      expect(await Bun.file(files.path(id)).exists()).toBe(false);
    }
  });

  test("list pages with after_id and before_id, newest first", async () => {
    const c = client();
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await c.messages.batches.create({ requests: [request(`p${i}`)] })).id);
    const first = await c.messages.batches.list({ limit: 2 });
    expect(first.data.map((b) => b.id)).toEqual([made[2]!, made[1]!]);
    expect(first.has_more).toBe(true);
    expect(first.last_id).toBe(made[1]!);
    const next = await c.messages.batches.list({ limit: 1, after_id: made[1]! });
    expect(next.data.map((b) => b.id)).toEqual([made[0]!]);
    const back = await c.messages.batches.list({ limit: 2, before_id: made[0]! });
    expect(back.data.map((b) => b.id)).toEqual([made[2]!, made[1]!]);
    for (const id of made) await untilEnded(c, id);
  });

  test("refusals in Anthropic's dialect: wrong key, an invalid request naming its index and field, a repeated custom_id, a streaming request, an unknown batch", async () => {
    const wrong = await new Anthropic({ baseURL: stack.url, apiKey: "wrong", maxRetries: 0 }).messages.batches.list().catch((e) => e);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    const c = client();
    const before = (await c.messages.batches.list({ limit: 1000 })).data.length;
    const noMessages = await c.messages.batches.create({ requests: [request("a"), { custom_id: "b", params: { model: "llama3.2", max_tokens: 8 } as never }] }).catch((e) => e);
    expect(noMessages).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noMessages.error).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(noMessages.error.error.message).toStartWith("requests.1.params");
    const twice = await c.messages.batches.create({ requests: [request("a"), request("a")] }).catch((e) => e);
    expect(twice.error.error.message).toContain("custom_id");
    const streaming = await c.messages.batches.create({ requests: [{ custom_id: "s", params: { ...request("s").params, stream: true } as never }] }).catch((e) => e);
    expect(streaming.error.error.message).toContain("params.stream");
    const badId = await c.messages.batches.create({ requests: [request("not ok!")] }).catch((e) => e);
    expect(badId.error.error.message).toContain("custom_id");
    expect((await c.messages.batches.list({ limit: 1000 })).data.length).toBe(before);
    const unknown = await c.messages.batches.retrieve("msgbatch_nope").catch((e) => e);
    expect(unknown).toBeInstanceOf(Anthropic.NotFoundError);
    expect(unknown.error).toMatchObject({ type: "error", error: { type: "not_found_error" } });
  });

  test("bodies that are not {requests: [...]} are 400s in Anthropic's shape, never a 500", async () => {
    for (const body of ["", "[]", '{"requests": 5}', '{"requests": [1]}', '{"other": []}', '{"requests": []}', '{"requests": [{"custom_id": "a"', '{"requests": [{"custom_id":"x","params":{}}]} x']) {
      const reply = await fetch(`${stack.url}/v1/messages/batches`, { method: "POST", headers: { "x-api-key": "s3cret", "content-type": "application/json" }, body });
      expect(reply.status, body).toBe(400);
      expect(((await reply.json()) as { type: string }).type).toBe("error");
    }
  });

  test("the token in x-api-key, as Anthropic's clients send it, is accepted; a wrong one is a 401", async () => {
    const keyed = (key: string) => new Anthropic({ baseURL: stack.url, apiKey: null, defaultHeaders: { "x-api-key": key }, maxRetries: 0 });
    const created = await keyed("s3cret").messages.batches.create({ requests: [request("k")] });
    expect((await keyed("s3cret").messages.batches.retrieve(created.id)).id).toBe(created.id);
    expect(await keyed("wrong").messages.batches.retrieve(created.id).catch((e) => e)).toBeInstanceOf(Anthropic.AuthenticationError);
    await untilEnded(client(), created.id);
  });

  test("more than 100,000 requests is a 400 naming the limit, and no batch", async () => {
    const before = (await client().messages.batches.list({ limit: 1000 })).data.length;
    const one = JSON.stringify({ model: "llama3.2", max_tokens: 1, messages: [{ role: "user", content: "x" }] });
    const body = `{"requests":[${Array.from({ length: 100_001 }, (_, i) => `{"custom_id":"r${i}","params":${one}}`).join(",")}]}`;
    const reply = await fetch(`${stack.url}/v1/messages/batches`, { method: "POST", headers: { "x-api-key": "s3cret", "content-type": "application/json" }, body });
    expect(reply.status).toBe(400);
    expect(((await reply.json()) as { error: { message: string } }).error.message).toContain("at most 100000 requests");
    expect((await client().messages.batches.list({ limit: 1000 })).data.length).toBe(before);
  });

  test("/v1/messages itself still reaches the passthrough", async () => {
    const message = await client().messages.create({ model: "llama3.2", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    expect(message.type).toBe("message");
  });
});

describe("cancel, delete while running, the body limit, restart (no token)", () => {
  const start = perTest();

  test("cancel: queued requests canceled, the batch ends with canceled results; delete refuses a running batch; cancelling again is a 409 not retried", async () => {
    const stack = await start.stack({ sim: { models: MODELS, tokenDelayMs: 50 } });
    const c = new Anthropic({ baseURL: stack.url, apiKey: "none" });
    const created = await c.messages.batches.create({ requests: Array.from({ length: 6 }, (_, i) => request(`c${i}`, "llama3.2", "tell me a long story")) });
    const running = await c.messages.batches.delete(created.id).catch((e) => e);
    expect(running).toBeInstanceOf(Anthropic.BadRequestError);
    const canceling = await c.messages.batches.cancel(created.id);
    expect(["canceling", "ended"]).toContain(canceling.processing_status);
    expect(canceling.cancel_initiated_at).toBeString();
    const ended = await untilEnded(c, created.id);
    expect(ended.request_counts.processing).toBe(0);
    expect(ended.request_counts.canceled).toBeGreaterThanOrEqual(5);
    expect(ended.request_counts.succeeded + ended.request_counts.errored + ended.request_counts.canceled).toBe(6);
    const results = await resultsOf(c, created.id);
    expect(results.map((r) => r.custom_id).sort()).toEqual(["c0", "c1", "c2", "c3", "c4", "c5"]);
    expect(results.filter((r) => r.result.type === "canceled").length).toBe(ended.request_counts.canceled);
    let calls = 0;
    const counting = new Anthropic({ baseURL: stack.url, apiKey: "none", fetch: (input, init) => (calls++, fetch(input, init)) });
    expect(await counting.messages.batches.cancel(created.id).catch((e) => e)).toBeInstanceOf(Anthropic.ConflictError);
    expect(calls).toBe(1);
    expect((await c.messages.batches.delete(created.id)).type).toBe("message_batch_deleted");
  });

  test("the body is exempt from FOREMAN_MAX_BODY_BYTES; a declared body over 256 MB is a 413 request_too_large", async () => {
    const stack = await start.stack({ sim: { models: MODELS }, foreman: { maxBodyBytes: 4096 } });
    const c = new Anthropic({ baseURL: stack.url, apiKey: "none" });
    const requests = Array.from({ length: 100 }, (_, i) => request(`big${i}`));
    expect(Buffer.byteLength(JSON.stringify({ requests }))).toBeGreaterThan(4096);
    const created = await c.messages.batches.create({ requests });
    expect(created.request_counts.processing).toBe(100);
    expect((await untilEnded(c, created.id)).request_counts.succeeded).toBe(100);
    // the head declares more than the limit; the body never comes
    const reply = await rawExchange(stack.foreman.port, `POST /v1/messages/batches HTTP/1.1\r\nHost: 127.0.0.1:${stack.foreman.port}\r\nContent-Type: application/json\r\nContent-Length: ${256 * 1024 * 1024 + 1}\r\n\r\n{"requests": [`);
    expect(reply.status).toBe(413);
    const error = JSON.parse(reply.body);
    expect(error).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    expect(error.error.message).toContain("256 MB");
  });

  test("the token sent as x-api-key is never passed on to the target", async () => {
    const seen: Headers[] = [];
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        seen.push(req.headers);
        if (new URL(req.url).pathname === "/") return new Response("Ollama is running");
        return Response.json({ id: "msg_1", type: "message", role: "assistant", model: "llama3.2", content: [], stop_reason: "end_turn", usage: { input_tokens: 1, output_tokens: 1 } });
      },
    });
    start.defer(() => target.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${target.port}`, token: "client-secret" });
    const reply = await fetch(`${foreman.url}/v1/messages`, { method: "POST", headers: { "x-api-key": "client-secret", "x-custom": "kept" }, body: JSON.stringify(request("t").params) });
    expect(reply.status).toBe(200);
    const h = seen.find((x) => x.get("x-custom"))!;
    expect(h.get("x-api-key")).toBeNull();
  });

  test("a restart of foreman mid-batch: the batch resumes and ends with every request once", async () => {
    const sim = await startSimulator({ models: MODELS, tokenDelayMs: 5, loadMs: 5 });
    start.defer(() => sim.stop());
    const dir = tempDir();
    start.defer(() => dir.remove());
    const config = testConfig({ target: sim.url }, dir.path);
    let foreman = await startForeman(config);
    const ids = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const created = await new Anthropic({ baseURL: foreman.url, apiKey: "none" }).messages.batches.create({ requests: ids.map((id) => request(id)) });
    const db = () => new Database(config.db, { readonly: true });
    await waitFor(
      () => {
        const d = db();
        const n = d.query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs WHERE batch_id = ? AND status = 'done'").get(created.id)!.n;
        d.close();
        return n >= 3;
      },
      { what: "some requests done" },
    );
    await foreman.stop();
    const d = db();
    expect(d.query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs WHERE batch_id = ? AND status <> 'done'").get(created.id)!.n).toBeGreaterThan(0);
    d.close();
    foreman = await startForeman(config);
    start.defer(() => foreman.stop());
    const c = new Anthropic({ baseURL: foreman.url, apiKey: "none" });
    const ended = await untilEnded(c, created.id);
    expect(ended.request_counts).toEqual({ processing: 0, succeeded: 20, errored: 0, canceled: 0, expired: 0 });
    const results = await resultsOf(c, created.id);
    expect(results.map((r) => r.custom_id).sort()).toEqual(ids.toSorted());
  });
});

describe("message batch shapes (pure)", () => {
  const line = (status: string, error: { status: number; message: string } | null = null) => ({ jobId: "j1", customId: "x", status, error: error as never, usage: null });

  test("result lines: succeeded with the message, errored with Anthropic's error object, canceled or expired by how the batch ended", () => {
    expect(JSON.parse(messageResultLine(line("done"), '{"type":"message"}', null))).toEqual({ custom_id: "x", result: { type: "succeeded", message: { type: "message" } } });
    expect(JSON.parse(messageResultLine(line("failed", { status: 404, message: "model 'm' not found" }), null, null)).result).toEqual({ type: "errored", error: { type: "error", error: { type: "not_found_error", message: "model 'm' not found" }, request_id: "j1" } });
    expect(JSON.parse(messageResultLine(line("canceled"), null, "cancelled")).result).toEqual({ type: "canceled" });
    expect(JSON.parse(messageResultLine(line("canceled"), null, "expired")).result).toEqual({ type: "expired" });
  });

  test("the envelope: every request processing until the end; then the unfinished count as canceled, or expired when the batch expired", () => {
    const record = { id: "msgbatch_1", endpoint: "/v1/messages", status: "in_progress", total: 5, completed: 0, failed: 0, createdAt: 0, expiresAt: 86_400_000, cancellingAt: null, completedAt: null, expiredAt: null, cancelledAt: null, failedAt: null } as never as BatchRecord;
    expect(messageBatchObject(record, 5, "http://h").request_counts).toEqual({ processing: 5, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
    expect(messageBatchObject(record, 5, "http://h")).toMatchObject({ processing_status: "in_progress", results_url: null, expires_at: "1970-01-02T00:00:00.000Z" });
    const expired = { ...record, status: "expired", completed: 2, failed: 1, expiredAt: 1000 } as BatchRecord;
    expect(messageBatchObject(expired, 5, "http://h")).toMatchObject({ processing_status: "ended", ended_at: "1970-01-01T00:00:01.000Z", results_url: "http://h/v1/messages/batches/msgbatch_1/results", request_counts: { processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 2 } });
    const cancelled = { ...record, status: "cancelled", completed: 1, failed: 0, cancellingAt: 500, cancelledAt: 900 } as BatchRecord;
    expect(messageBatchObject(cancelled, 5, "http://h")).toMatchObject({ cancel_initiated_at: "1970-01-01T00:00:00.500Z", request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 4, expired: 0 } });
    expect(messageBatchObject({ ...record, status: "cancelling", cancellingAt: 500 } as BatchRecord, 5, "http://h").processing_status).toBe("canceling");
  });
});

describe("RequestsSplitter", () => {
  test("splits the requests however the body is cut into chunks, strings with braces and escapes included", () => {
    const requests = [{ custom_id: "a", params: { s: 'x}{]["\\' } }, { custom_id: "b", params: { n: [1, { m: 2 }] } }, { custom_id: "c", params: {} }];
    const text = Buffer.from(` { "requests" : [ ${requests.map((r) => JSON.stringify(r, null, 1)).join(" , ")} ] } `);
    for (const cut of [1, 2, 3, 7, 13, text.length]) {
      const splitter = new RequestsSplitter();
      const got = [];
      for (let i = 0; i < text.length; i += cut) got.push(...splitter.push(text.subarray(i, i + cut)));
      splitter.end();
      expect(got.map((b) => JSON.parse(Buffer.from(b).toString()))).toEqual(requests);
    }
  });
});
