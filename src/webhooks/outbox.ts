// The outbox: inside the transaction of every job state change, one delivery row per webhook
// that wants the event, carrying the payload as it is at that moment. Whatever commits the
// state change commits its deliveries; nothing is sent from inside the transaction, and the
// dispatcher is woken only once the transaction has committed.
import { eventView } from "../queue/view.ts";
import type { JobEvent, JobRecord, Queue } from "../queue/queue.ts";
import type { Deliveries } from "./deliveries.ts";

/** job.done carries its artifact inline up to this size; larger ones only by link. */
const INLINE_ARTIFACT_BYTES = 64 * 1024;

interface WebhookSpec {
  url: string;
  events: string[] | null;
}

function payloadFor(job: JobRecord, event: JobEvent, queue: Queue): string {
  const data: Record<string, unknown> = { ...eventView(job, event) };
  if (event.type === "done") {
    const artifact = queue.artifact(job.id);
    if (artifact && artifact.body.byteLength <= INLINE_ARTIFACT_BYTES && /json/.test(artifact.contentType)) {
      try {
        data.artifact = JSON.parse(new TextDecoder().decode(artifact.body));
      } catch {
        // not JSON after all: the link will do
      }
    }
  }
  return JSON.stringify({ type: `job.${event.type}`, timestamp: new Date(event.at).toISOString(), data });
}

/** `onDelivery` runs once a transaction that added delivery rows has committed: the dispatcher's cue. */
export function installOutbox(queue: Queue, deliveries: Deliveries, onDelivery: () => void): void {
  queue.addDependents(deliveries);
  queue.onEvent((job, event) => {
    const hook = job.webhook as WebhookSpec | null;
    if (!hook) return;
    const type = `job.${event.type}`;
    if (hook.events && !hook.events.includes(type)) return;
    deliveries.add(event.id, job.id, type, hook.url, payloadFor(job, event, queue), event.at);
    queue.whenCommitted(onDelivery);
  });
}
