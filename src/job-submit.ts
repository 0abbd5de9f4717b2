// POST /jobs: validating a submission against its endpoint's request shape, and the
// idempotency rule (same key + same body = the same job; same key + other body = 422).
import { Type, type Static } from "@sinclair/typebox";
import { ENDPOINTS, kindOf } from "../jobs/index.ts";
import { HttpError } from "./errors.ts";
import { WEBHOOK_EVENTS } from "./job-view.ts";
import { ASYNC, type JobRecord, type Queue } from "./queue.ts";
import { validate } from "./route.ts";

export const Submission = Type.Object(
  {
    endpoint: Type.Optional(Type.Union(ENDPOINTS.map((e) => Type.Literal(e)), { description: "target endpoint; default /api/chat" })),
    request: Type.Object({}, { additionalProperties: true, description: "the target's request body; model required" }),
    webhook: Type.Optional(
      Type.Union([
        Type.String({ minLength: 1, maxLength: 2048 }),
        Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048 }), events: Type.Optional(Type.Array(Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e))), { uniqueItems: true })) }, { additionalProperties: false }),
      ]),
    ),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: "higher runs first within a model" })),
  },
  { additionalProperties: false },
);
export type Submission = Static<typeof Submission>;

export interface WebhookTarget {
  url: string;
  events: string[] | null;
}

export const METADATA_MAX_BYTES = 16 * 1024;

/** Checks what the schema cannot: the request against its endpoint, sizes, the webhook URL. */
export function normalize(sub: Submission, checkWebhookUrl: (url: string) => string | undefined): { endpoint: string; model: string; request: string; webhook: WebhookTarget | null } {
  const endpoint = sub.endpoint ?? "/api/chat";
  const kind = kindOf(endpoint)!;
  const request = validate(kind.request, sub.request, "/request") as { model: string };
  if (sub.metadata && JSON.stringify(sub.metadata).length > METADATA_MAX_BYTES) throw new HttpError(413, `/metadata: larger than ${METADATA_MAX_BYTES} bytes`, "/metadata");
  let webhook: WebhookTarget | null = null;
  if (sub.webhook !== undefined) {
    webhook = typeof sub.webhook === "string" ? { url: sub.webhook, events: null } : { url: sub.webhook.url, events: sub.webhook.events ?? null };
    const field = typeof sub.webhook === "string" ? "/webhook" : "/webhook/url";
    const problem = checkWebhookUrl(webhook.url);
    if (problem) throw new HttpError(400, `${field}: ${problem}`, field);
  }
  return { endpoint, model: request.model, request: JSON.stringify(request), webhook };
}

/** A stable digest of what was submitted, for the idempotency check. */
export function submissionHash(sub: Submission): string {
  return new Bun.CryptoHasher("sha256").update(canonical(sub)).digest("hex");
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Enqueues, or returns the job an earlier submission with the same key made. */
export function submit(queue: Queue, sub: Submission, idempotencyKey: string | null, checkWebhookUrl: (url: string) => string | undefined, defaultWebhook: WebhookTarget | null): { job: JobRecord; replayed: boolean } {
  const hash = idempotencyKey ? submissionHash(sub) : null;
  if (idempotencyKey) {
    const existing = queue.byIdempotencyKey(idempotencyKey);
    if (existing) {
      if (existing.requestHash !== hash) throw new HttpError(422, `Idempotency-Key "${idempotencyKey}" was already used with a different request body`, "/headers/idempotency-key");
      return { job: existing, replayed: true };
    }
  }
  const n = normalize(sub, checkWebhookUrl);
  const job = queue.enqueue({
    lane: ASYNC,
    endpoint: n.endpoint,
    model: n.model,
    priority: sub.priority ?? 0,
    request: n.request,
    metadata: sub.metadata ?? null,
    webhook: n.webhook ?? defaultWebhook,
    idempotencyKey,
    requestHash: hash,
  });
  return { job, replayed: false };
}
