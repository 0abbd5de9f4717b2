// POST /jobs: validating a submission against its endpoint's request shape, and the
// idempotency rule (same key + same body = the same job; same key + other body = 422).
import { Type, type Static } from "@sinclair/typebox";
import { ENDPOINTS, kindOf } from "../../jobs/index.ts";
import { loadOf } from "../../jobs/kind.ts";
import { HttpError } from "../contract/http-error.ts";
import { WEBHOOK_EVENTS } from "./view.ts";
import { ASYNC, type EnqueueInput, type JobRecord, type Queue } from "./queue.ts";
import { validate } from "../schema/validate.ts";
import type { RequestedLoad } from "../ollama/load-options.ts";
import { INVALID_MODEL_NAME, validModelName } from "../ollama/model-name.ts";
import { scheduleOf } from "./schedule.ts";
import { checkedTag } from "../contract/caller.ts";

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
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "kept with the job and shown with it; `tag` (1 to 64 printable ASCII characters) is what GET /usage?by=tag groups by" })),
    priority: Type.Optional(Type.Integer({ minimum: -1000, maximum: 1000, description: "higher runs first within a model" })),
    preemptible: Type.Optional(Type.Boolean({ description: "false: a passthrough request never stops this job to run first (default true)" })),
    run_after: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "do not start before: an RFC 3339 date-time, or a duration from now (`2h`, `90m`); at most a year ahead" })),
    start_by: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "not started by then, the job never starts and ends `canceled` with the reason `expired`: an RFC 3339 date-time, or a duration from now; after run_after" }),
    ),
    max_run: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "the longest one attempt may run from the target's first byte, as a Go duration (`10m`, `1h30m`; `0s`: no cap); at the cap the job ends `failed`, not retried. Default FOREMAN_JOB_MAX_RUN_MS" }),
    ),
  },
  { additionalProperties: false },
);
export type Submission = Static<typeof Submission>;

export interface WebhookTarget {
  url: string;
  events: string[] | null;
}

const METADATA_MAX_BYTES = 16 * 1024;

/**
 * Checks what the envelope's schema cannot: sizes, and where the webhook is. The request
 * itself is checked against its endpoint by `requestFor`, after the webhook URL.
 */
export function normalize(sub: Submission): { endpoint: string; webhook: WebhookTarget | null; tag: string | null } {
  const endpoint = sub.endpoint ?? "/api/chat";
  if (sub.metadata && JSON.stringify(sub.metadata).length > METADATA_MAX_BYTES) throw new HttpError(413, `/metadata: larger than ${METADATA_MAX_BYTES} bytes`, "/metadata");
  let webhook: WebhookTarget | null = null;
  if (sub.webhook !== undefined) webhook = typeof sub.webhook === "string" ? { url: sub.webhook, events: null } : { url: sub.webhook.url, events: sub.webhook.events ?? null };
  // the usage ledger's tag (ADR 0036): bounded, as it becomes a key of the rollup
  const tag = checkedTag(sub.metadata?.tag, "/metadata/tag");
  return { endpoint, webhook, tag };
}

/**
 * The request against its endpoint. A request the endpoint cannot use (no model, a chat
 * without messages, a field of the wrong type) is a 422 naming the field: the submission
 * itself is well-formed (ADR 0018).
 */
export function requestFor(endpoint: string, request: unknown): { model: string; request: string; load: RequestedLoad } {
  const kind = kindOf(endpoint)!;
  const valid = validate(kind.request, request, "/request", 422) as { model: string };
  // Ollama's rules and words: a name it cannot parse (a megabyte of it, say) is never queued
  if (!validModelName(valid.model)) throw new HttpError(422, `/request/model: ${INVALID_MODEL_NAME}`, "/request/model");
  return { model: valid.model, request: JSON.stringify(valid), load: loadOf(kind, valid) };
}

/** A stable digest of what was submitted, for the idempotency check. */
function submissionHash(sub: Submission): string {
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

export interface Accepted {
  job: JobRecord;
  replayed: boolean;
  /** Queued jobs ahead of a new job when it was accepted (all of them are older). */
  position: number | null;
}

interface Pending {
  input: EnqueueInput;
  resolve(result: Accepted): void;
  reject(err: unknown): void;
}

/**
 * Accepts submissions durably. With group commit, the submissions that arrive within one
 * turn of the event loop are committed in one transaction: one WAL write for many jobs instead
 * of one each (ADR 0007). The commit is deferred (ADR 0016): the 202, like every reply of the
 * job API, waits for the fsync that puts it on disk, which runs off the event loop — so the
 * next batch is taken in while the disk works, and each fsync covers every batch before it.
 */
export class Submitter {
  private pending: Pending[] = [];

  constructor(
    private readonly queue: Queue,
    private readonly groupCommit = true,
  ) {}

  /** Validates (the webhook URL against the URL policy, after DNS), then enqueues — or returns the job an earlier submission with the same key made. */
  async submit(sub: Submission, idempotencyKey: string | null, checkWebhookUrl: (url: string) => Promise<string | undefined>, defaultWebhook: WebhookTarget | null, requestId: string | null = null, client: string | null = null): Promise<Accepted> {
    const n = normalize(sub);
    const refused = n.webhook && (await checkWebhookUrl(n.webhook.url));
    // one pointer for every refusal of the webhook, whichever of its two forms was sent (as the schema's)
    if (refused) throw new HttpError(400, `/webhook: ${refused}`, "/webhook");
    const schedule = scheduleOf(sub, Date.now());
    if ("field" in schedule) throw new HttpError(400, `${schedule.field}: ${schedule.error}`, schedule.field);
    const { model, request, load } = requestFor(n.endpoint, sub.request);
    const input: EnqueueInput = {
      lane: ASYNC,
      endpoint: n.endpoint,
      model,
      priority: sub.priority ?? 0,
      request,
      metadata: sub.metadata ?? null,
      webhook: n.webhook ?? defaultWebhook,
      idempotencyKey,
      requestHash: idempotencyKey ? submissionHash(sub) : null,
      requestId,
      load,
      preemptible: sub.preemptible ?? true,
      runAfter: schedule.runAfter,
      startBy: schedule.startBy,
      maxRunMs: schedule.maxRunMs,
      client,
      tag: n.tag,
    };
    if (!this.groupCommit) return this.queue.atomically(() => this.accept(input));
    const { promise, resolve, reject } = Promise.withResolvers<Accepted>();
    if (this.pending.push({ input, resolve, reject }) === 1) setImmediate(() => this.flush());
    return promise;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    const results: (Accepted | HttpError)[] = [];
    try {
      this.queue.atomically(() => {
        for (const p of batch) {
          try {
            results.push(this.accept(p.input));
          } catch (err) {
            if (!(err instanceof HttpError)) throw err;
            results.push(err);
          }
        }
      }, "deferred");
    } catch (err) {
      // the commit itself failed (disk full, read-only): nobody was accepted
      for (const p of batch) p.reject(err);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof HttpError) p.reject(r);
      else p.resolve(r);
    });
  }

  /** Inside a transaction: the idempotency check and the insert. */
  private accept(input: EnqueueInput): Accepted {
    if (input.idempotencyKey) {
      const existing = this.queue.byIdempotencyKey(input.idempotencyKey);
      if (existing) {
        if (existing.requestHash !== input.requestHash) throw new HttpError(422, `Idempotency-Key "${input.idempotencyKey}" was already used with a different request body`, "/headers/idempotency-key");
        return { job: existing, replayed: true, position: null };
      }
    }
    const position = this.queue.queuedCount;
    return { job: this.queue.enqueue(input), replayed: false, position };
  }
}
