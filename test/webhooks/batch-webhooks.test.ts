// Batch webhooks (issue 19): a batch's end reaches FOREMAN_WEBHOOK_URL and the batch's own
// metadata.webhook_url as OpenAI's thin event, signed so that the openai package's own
// webhooks.unwrap verifies it — completed, failed, cancelled and expired — through the outbox.
// Their delivery rows go with the batch row (ADR 0043): the retention sweep and a message batch's
// DELETE leave none behind, and the sweep keeps a batch whose delivery is still being tried.
// A batch's lines send their own job webhooks only when metadata.line_webhooks asks (ADR 0043).
import { describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI, { toFile } from "openai";
import { Webhook } from "standardwebhooks";
import { ForemanClient } from "../../clients/ts/index.ts";
import { expireFiles } from "../../src/queue/retention.ts";
import { lineWebhook, lineWebhookEvents } from "../../src/webhooks/batch-outbox.ts";
import { perTest, waitFor, type Stack } from "../harness.ts";
import { startReceiver, type Received } from "./receiver.ts";

const SECRET = "whsec_" + Buffer.from("a batch secret that is long enough").toString("base64");
const FAST = { schedule: [20, 40, 80, 160, 320], timeoutMs: 2000 };
const line = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: id }] } });
const jsonl = (ids: string[]) => `${ids.map(line).join("\n")}\n`;

const start = perTest();
function receiverFor() {
  const receiver = startReceiver();
  start.defer(() => receiver.stop());
  return receiver;
}

/** The one event the receiver got for `batchId`, verified by the openai package. */
async function eventFor(receiver: ReturnType<typeof startReceiver>, batchId: string, openai: OpenAI) {
  const got = await receiver.until((r) => r.some((x) => (x.json as unknown as { data: { id: string } }).data.id === batchId));
  const mine = got.filter((x) => (x.json as unknown as { data: { id: string } }).data.id === batchId);
  expect(mine).toHaveLength(1);
  const r: Received = mine[0]!;
  const event = await openai.webhooks.unwrap(r.body, Object.fromEntries(r.headers), SECRET);
  return { event, raw: JSON.parse(r.body), headers: r.headers };
}

describe("batch webhooks", () => {
  test("completed, failed, cancelled, expired: each batch's end once to the default webhook and to its own, signed, OpenAI's payload", async () => {
    const fallback = receiverFor();
    const own = receiverFor();
    const stack = await start.stack({ sim: { tokenDelayMs: 2, loadMs: 1 }, foreman: { webhookSecret: SECRET, webhookUrl: fallback.url }, start: { webhooks: FAST } });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", webhookSecret: SECRET });
    const upload = async (text: string) => openai.files.create({ file: await toFile(Buffer.from(text), "in.jsonl"), purpose: "batch" });

    // completed, told to both
    const done = await openai.batches.create({ input_file_id: (await upload(jsonl(["a", "b"]))).id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { webhook_url: own.url } });
    for (const receiver of [fallback, own]) {
      const { event, raw, headers } = await eventFor(receiver, done.id, openai);
      expect(event.type).toBe("batch.completed");
      expect(Object.keys(raw).sort()).toEqual(["created_at", "data", "id", "object", "type"]);
      expect(raw).toMatchObject({ object: "event", type: "batch.completed", data: { id: done.id } });
      expect(raw.id).toMatch(/^evt_/);
      expect(raw.created_at).toBeGreaterThanOrEqual((await openai.batches.retrieve(done.id)).completed_at!);
      expect(headers.get("webhook-id")).toMatch(/^msg_/);
    }
    expect((await openai.batches.retrieve(done.id)).status).toBe("completed");

    // failed: an invalid input; only the default webhook (no metadata)
    const failed = await openai.batches.create({ input_file_id: (await upload("not json\n")).id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    expect((await eventFor(fallback, failed.id, openai)).event.type).toBe("batch.failed");

    // cancelled
    const many = await openai.batches.create({ input_file_id: (await upload(jsonl(Array.from({ length: 30 }, (_, i) => `c${i}`)))).id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    await openai.batches.cancel(many.id);
    expect((await eventFor(fallback, many.id, openai)).event.type).toBe("batch.cancelled");

    // expired: its lines wait behind a job that holds the target past the window
    await stack.sim.setFaults({ endless: true });
    const jobs = new ForemanClient({ baseUrl: stack.url });
    const holder = await jobs.submit({ request: { model: "llama3.2", prompt: "loop" }, endpoint: "/api/generate" });
    await waitFor(async () => (await jobs.get(holder.id)).status === "working", { what: "the holder to run" });
    const late = await openai.batches.create({ input_file_id: (await upload(jsonl(["x"]))).id, endpoint: "/v1/chat/completions", completion_window: "1s" as "24h" }); // a window shorter than OpenAI allows: foreman takes any duration
    expect((await eventFor(fallback, late.id, openai)).event.type).toBe("batch.expired");
    expect((await openai.batches.retrieve(late.id)).status).toBe("expired");
    await stack.sim.setFaults({ endless: false });
    await jobs.cancel(holder.id);

    // the batch's own webhook heard only its batch
    expect(own.received).toHaveLength(1);
  });

  test("a metadata.webhook_url foreman may not call is a 400 naming it, and no batch is made", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 1 }, foreman: { webhookAllow: "" } });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", maxRetries: 0 });
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl(["a"])), "in.jsonl"), purpose: "batch" });
    const refused = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { webhook_url: "http://127.0.0.1:9/hook" } }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused.error.param).toBe("metadata.webhook_url");
    expect(refused.message).toContain("metadata.webhook_url");
    expect((await openai.batches.list()).data).toEqual([]);
  });
});

/** The delivery rows (and their attempts) foreman keeps for `batchId`. */
function rowsFor(stack: Stack, batchId: string): { deliveries: number; attempts: number; pending: number } {
  const db = stack.foreman.services.store.db;
  return db
    .query<{ deliveries: number; attempts: number; pending: number }, [string]>(
      `SELECT count(*) AS deliveries, coalesce(sum(status = 'pending'), 0) AS pending,
              (SELECT count(*) FROM delivery_attempts a WHERE a.delivery_id IN (SELECT id FROM webhook_deliveries WHERE job_id = ?1)) AS attempts
       FROM webhook_deliveries WHERE job_id = ?1`,
    )
    .get(batchId)!;
}

describe("batch deliveries go with the batch", () => {
  const DAYS_40 = 40 * 24 * 3_600_000;

  test("the retention sweep removes an ended batch whose files expired with its deliveries; one still being delivered stays until its attempts end", async () => {
    const receiver = receiverFor();
    // one retry, 1.5 s after the first attempt: long enough to sweep while it is pending
    const stack = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 1 }, foreman: { webhookSecret: SECRET, webhookUrl: receiver.url }, start: { webhooks: { schedule: [1500], timeoutMs: 2000 } } });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", webhookSecret: SECRET });
    const run = async (id: string) => {
      const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl([id])), "in.jsonl"), purpose: "batch" });
      const b = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
      await waitFor(async () => (await openai.batches.retrieve(b.id)).status === "completed", { what: `batch ${b.id} to complete` });
      return b.id;
    };
    const { queue, files, batches } = stack.foreman.services;
    const sweep = () => expireFiles(queue, files, batches.batches, Date.now() + DAYS_40);

    const delivered = await run("a");
    await eventFor(receiver, delivered, openai);
    await waitFor(() => rowsFor(stack, delivered).pending === 0, { what: "the delivery to be recorded" });
    expect(rowsFor(stack, delivered)).toEqual({ deliveries: 1, attempts: 1, pending: 0 });

    // the receiver is down for the next batch: its delivery is refused once and waits to be tried again
    receiver.setDown(true);
    const waiting = await run("b");
    await waitFor(() => receiver.refused.some((r) => (r.json as unknown as { data: { id: string } }).data.id === waiting), { what: "the first attempt to be refused" });
    await waitFor(() => rowsFor(stack, waiting).attempts === 1, { what: "the refused attempt to be recorded" });
    expect(rowsFor(stack, waiting).pending).toBe(1);

    // the files of both expire: the delivered batch goes with its rows, the pending one stays
    expect(await sweep()).toEqual({ files: 4, batches: 1 });
    expect(await openai.batches.retrieve(delivered).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect(rowsFor(stack, delivered)).toEqual({ deliveries: 0, attempts: 0, pending: 0 });
    expect((await openai.batches.retrieve(waiting)).status).toBe("completed");
    expect(rowsFor(stack, waiting)).toEqual({ deliveries: 1, attempts: 1, pending: 1 });

    // its last attempt refused too, the delivery has ended (failed): the next sweep takes it
    await waitFor(() => rowsFor(stack, waiting).pending === 0, { what: "the delivery's attempts to end" });
    expect(await sweep()).toEqual({ files: 0, batches: 1 });
    expect(rowsFor(stack, waiting)).toEqual({ deliveries: 0, attempts: 0, pending: 0 });
  });

  test("a message batch's DELETE removes its deliveries with it", async () => {
    const receiver = receiverFor();
    const stack = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 1 }, foreman: { webhookSecret: SECRET, webhookUrl: receiver.url }, start: { webhooks: FAST } });
    const anthropic = new Anthropic({ baseURL: stack.url, apiKey: "none" });
    const created = await anthropic.messages.batches.create({ requests: [{ custom_id: "a", params: { model: "llama3.2", max_tokens: 16, messages: [{ role: "user", content: "hi" }] } }] });
    await receiver.until((r) => r.some((x) => (x.json as unknown as { data: { id: string } }).data.id === created.id));
    await waitFor(() => rowsFor(stack, created.id).pending === 0, { what: "the delivery to be recorded" });
    expect(rowsFor(stack, created.id)).toEqual({ deliveries: 1, attempts: 1, pending: 0 });
    // a message batch has no metadata to ask for its lines' webhooks: only its end is told
    expect(receiver.received.map((r) => r.json.type)).toEqual(["batch.completed"]);
    await anthropic.messages.batches.delete(created.id);
    expect(rowsFor(stack, created.id)).toEqual({ deliveries: 0, attempts: 0, pending: 0 });
  });
});

describe("the lines' own job webhooks (metadata.line_webhooks)", () => {
  type LineEvent = { type: string; data: { id: string; status: string; batch_id?: string; custom_id?: string; metadata: Record<string, unknown> } };
  const ofBatch = (r: Received, batchId: string) => {
    const body = JSON.parse(r.body) as LineEvent & { data: { id: string } };
    return body.data.id === batchId || body.data.metadata?.batch_id === batchId;
  };

  test("off unless asked; `true` sends every line's job events to the batch's own webhook, a list only those events, to FOREMAN_WEBHOOK_URL without one; all signed", async () => {
    const fallback = receiverFor();
    const own = receiverFor();
    const stack = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 1 }, foreman: { webhookSecret: SECRET, webhookUrl: fallback.url }, start: { webhooks: FAST } });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", webhookSecret: SECRET });
    const run = async (ids: string[], metadata: Record<string, string>) => {
      const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl(ids)), "in.jsonl"), purpose: "batch" });
      const b = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata });
      await waitFor(async () => (await openai.batches.retrieve(b.id)).status === "completed", { what: `batch ${b.id} to complete` });
      return b.id;
    };
    const wh = new Webhook(SECRET);
    const verified = (r: Received) => wh.verify(r.body, Object.fromEntries(r.headers)) as LineEvent;

    // not asked: only the end, to both
    const quiet = await run(["q1", "q2"], { webhook_url: own.url });
    for (const receiver of [fallback, own]) await eventFor(receiver, quiet, openai);

    // asked with "true": each line's queued … done to the batch's own webhook, then the end; the default hears only the end
    const loud = await run(["l1", "l2"], { webhook_url: own.url, line_webhooks: "true" });
    await eventFor(fallback, loud, openai);
    await own.until((r) => r.some((x) => (x.json as unknown as { data: { id: string } }).data.id === loud));
    const lines = own.received.filter((r) => ofBatch(r, loud) && r.json.type.startsWith("job."));
    const byLine = new Map<string, string[]>();
    for (const r of lines) {
      const event = verified(r);
      expect(event.data.metadata).toMatchObject({ batch_id: loud });
      const custom = event.data.metadata.custom_id as string;
      byLine.set(custom, [...(byLine.get(custom) ?? []), event.type]);
    }
    expect([...byLine.keys()].sort()).toEqual(["l1", "l2"]);
    for (const types of byLine.values()) {
      expect(types[0]).toBe("job.queued");
      expect(types.at(-1)).toBe("job.done");
    }

    // asked for job.done only, no webhook_url: one job.done a line to FOREMAN_WEBHOOK_URL
    const listed = await run(["d1", "d2", "d3"], { line_webhooks: "job.done" });
    await eventFor(fallback, listed, openai);
    await waitFor(() => fallback.received.filter((r) => ofBatch(r, listed) && r.json.type === "job.done").length === 3, { what: "the three lines' job.done" });
    const told = fallback.received.filter((r) => ofBatch(r, listed));
    expect(told.map((r) => verified(r).type).sort()).toEqual(["batch.completed", "job.done", "job.done", "job.done"]);
    expect(told.filter((r) => r.json.type === "job.done").map((r) => r.json.data.metadata?.custom_id).sort()).toEqual(["d1", "d2", "d3"]);

    // the lines of the batches that did not ask sent nothing; the own webhook heard nothing of the last batch
    expect(fallback.received.filter((r) => ofBatch(r, quiet) || ofBatch(r, loud)).map((r) => r.json.type)).toEqual(["batch.completed", "batch.completed"]);
    expect(own.received.filter((r) => ofBatch(r, quiet)).map((r) => r.json.type)).toEqual(["batch.completed"]);
    expect(own.received.filter((r) => ofBatch(r, listed))).toEqual([]);
  });

  test("a line_webhooks foreman cannot read, or with no webhook to go to, is a 400 naming it, and no batch is made", async () => {
    const stack = await start.stack({ sim: { tokenDelayMs: 1 } });
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", maxRetries: 0 });
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl(["a"])), "in.jsonl"), purpose: "batch" });
    for (const [value, says] of [
      ["yes", 'expected "true", "false" or a comma-separated list of job.queued'],
      ["job.done,job.finished", '"job.done,job.finished"'],
      ["true", "no webhook to send the lines' events to"],
    ] as const) {
      const refused = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { line_webhooks: value } }).catch((e) => e);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect(refused.error.param).toBe("metadata.line_webhooks");
      expect(refused.message).toContain(says);
    }
    // "false" is the default said aloud
    const off = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", metadata: { line_webhooks: "false" } });
    expect((await openai.batches.list()).data.map((b) => b.id)).toEqual([off.id]);
  });
});

describe("line webhooks (pure)", () => {
  test("lineWebhookEvents: off, every event, a list (duplicates once), or why not", () => {
    expect(lineWebhookEvents(undefined)).toBeNull();
    expect(lineWebhookEvents("false")).toBeNull();
    expect(lineWebhookEvents("true")).toEqual({ events: null });
    expect(lineWebhookEvents("job.done, job.failed,job.done")).toEqual({ events: ["job.done", "job.failed"] });
    for (const bad of ["", "TRUE", "job.done,", "done", "batch.completed"]) expect(lineWebhookEvents(bad)).toHaveProperty("error");
  });

  test("lineWebhook: the batch's own URL, else the default; nothing unless asked or with nowhere to go", () => {
    const own = "http://10.0.0.5/own";
    const fallback = "http://10.0.0.6/default";
    expect(lineWebhook({ metadata: { line_webhooks: "true", webhook_url: own } }, fallback)).toEqual({ url: own, events: null });
    expect(lineWebhook({ metadata: { line_webhooks: "job.done" } }, fallback)).toEqual({ url: fallback, events: ["job.done"] });
    expect(lineWebhook({ metadata: { webhook_url: own } }, fallback)).toBeUndefined();
    expect(lineWebhook({ metadata: null }, fallback)).toBeUndefined();
    expect(lineWebhook({ metadata: { line_webhooks: "true" } }, undefined)).toBeUndefined();
    expect(lineWebhook({ metadata: { line_webhooks: "nonsense", webhook_url: own } }, fallback)).toBeUndefined();
  });
});
