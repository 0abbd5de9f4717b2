// Batch webhooks (issue 19): a batch's end reaches FOREMAN_WEBHOOK_URL and the batch's own
// metadata.webhook_url as OpenAI's thin event, signed so that the openai package's own
// webhooks.unwrap verifies it — completed, failed, cancelled and expired — through the outbox.
import { describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { ForemanClient } from "../../clients/ts/index.ts";
import { perTest, waitFor } from "../harness.ts";
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
