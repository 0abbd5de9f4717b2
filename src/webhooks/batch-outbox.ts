// Batch webhooks (issue 19): when a batch ends, OpenAI's thin event — `batch.completed`,
// `batch.failed`, `batch.expired` or `batch.cancelled`, naming only the batch — goes to
// FOREMAN_WEBHOOK_URL and to the batch's own `metadata.webhook_url`. The deliveries are written
// in the transaction that ends the batch, so the job outbox's dispatcher signs, retries and
// records them like a job's (keyed by the batch id where a job's are keyed by the job's), and
// they are removed with the batch row, as a job's are with the job.
import type { BatchRecord, Batches } from "../queue/batches.ts";
import type { Queue } from "../queue/queue.ts";
import { newId } from "../store/ids.ts";
import type { Deliveries } from "./deliveries.ts";

/** The metadata key naming a batch's own webhook (OpenAI's metadata holds any 16 pairs). */
export const BATCH_WEBHOOK_KEY = "webhook_url";

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
