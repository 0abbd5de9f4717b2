// Batch webhooks (issue 19): when a batch ends, OpenAI's thin event — `batch.completed`,
// `batch.failed`, `batch.expired` or `batch.cancelled`, naming only the batch — goes to
// FOREMAN_WEBHOOK_URL and to the batch's own `metadata.webhook_url`. The deliveries are written
// in the transaction that ends the batch, so the job outbox's dispatcher signs, retries and
// records them like a job's (keyed by the batch id where a job's are keyed by the job's), and
// they are removed with the batch row, as a job's are with the job.
//
// A batch's lines send no job webhooks of their own unless the batch asks, with
// `metadata.line_webhooks` (ADR 0043): `"true"` for every job event of every line, or a
// comma-separated list of job events (`"job.done,job.failed"`); they go to the batch's own
// webhook, else FOREMAN_WEBHOOK_URL — as a POST /jobs job's own webhook replaces the default.
import type { BatchRecord, Batches } from "../queue/batches.ts";
import type { Queue } from "../queue/queue.ts";
import type { WebhookTarget } from "../queue/submit.ts";
import { WEBHOOK_EVENTS } from "../queue/view.ts";
import { newId } from "../store/ids.ts";
import type { Deliveries } from "./deliveries.ts";

/** The metadata key naming a batch's own webhook (OpenAI's metadata holds any 16 pairs). */
export const BATCH_WEBHOOK_KEY = "webhook_url";
/** The metadata key that turns on the lines' own job webhooks, and which events they send. */
export const LINE_WEBHOOKS_KEY = "line_webhooks";

/**
 * What `metadata.line_webhooks` asks: off (absent or `"false"`), every job event (`"true"`,
 * `events: null`), the job events it lists, or why it is not one of those. Pure.
 */
export function lineWebhookEvents(value: string | undefined): { events: string[] | null } | null | { error: string } {
  if (value === undefined || value === "false") return null;
  if (value === "true") return { events: null };
  const events = value.split(",").map((e) => e.trim());
  const unknown = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0 || events.length === 0) return { error: `expected "true", "false" or a comma-separated list of ${WEBHOOK_EVENTS.join(", ")}; got ${JSON.stringify(value)}` };
  return { events: [...new Set(events)] };
}

/** The webhook each line of `b` is enqueued with, if the batch asked for one (ADR 0043). Pure. */
export function lineWebhook(b: Pick<BatchRecord, "metadata">, defaultUrl: string | undefined): WebhookTarget | undefined {
  const asked = lineWebhookEvents(b.metadata?.[LINE_WEBHOOKS_KEY]);
  const url = b.metadata?.[BATCH_WEBHOOK_KEY] || defaultUrl;
  if (asked === null || "error" in asked || !url) return undefined;
  return { url, events: asked.events };
}

/** The event a batch's end is: its ended status, as OpenAI names it. Pure. */
export const batchEventType = (b: BatchRecord): string => `batch.${b.status}`;

/** OpenAI's payload: `{id, object: "event", type, created_at, data: {id}}`, times in Unix seconds. Pure. */
export function batchEventPayload(b: BatchRecord, eventId: string, at: number): string {
  return JSON.stringify({ id: eventId, object: "event", type: batchEventType(b), created_at: Math.floor(at / 1000), data: { id: b.id } });
}

/** Where a batch's end is told: the default webhook and the batch's own, each once. Pure. */
export function batchWebhookUrls(b: BatchRecord, defaultUrl: string | undefined): string[] {
  const own = b.metadata?.[BATCH_WEBHOOK_KEY];
  return [...new Set([defaultUrl, own].filter((u): u is string => u !== undefined && u !== ""))];
}

/** `onDelivery` runs once the transaction that ended a batch has committed: the dispatcher's cue. */
export function installBatchOutbox(queue: Queue, batches: Batches, deliveries: Deliveries, defaultUrl: string | undefined, onDelivery: () => void): void {
  // a batch's deliveries go with its row; a pending one keeps the row, as a job's keeps the job (ADR 0043)
  batches.addDependents(deliveries);
  batches.onEnded((b) => {
    const urls = batchWebhookUrls(b, defaultUrl);
    if (urls.length === 0) return;
    const at = Date.now();
    const payload = batchEventPayload(b, `evt_${newId(at)}`, at);
    for (const url of urls) deliveries.add(0, b.id, batchEventType(b), url, payload, at);
    queue.whenCommitted(onDelivery);
  });
}
