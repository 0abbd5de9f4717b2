// The job object clients see (GET /jobs/{id}, webhooks, events): one schema, one mapping
// from the stored record.
import { Type, type Static } from "@sinclair/typebox";
import { JOB_STATES } from "../contract/states.ts";
import { serverTiming } from "../ops/server-timing.ts";
import type { JobRecord, Queue } from "./queue.ts";

export const WEBHOOK_EVENTS = JOB_STATES.map((s) => `job.${s}` as const);

export const JobSchema = Type.Object({
  id: Type.String({ description: "time-sortable, opaque" }),
  status: Type.Union(JOB_STATES.map((s) => Type.Literal(s))),
  endpoint: Type.String(),
  model: Type.String(),
  priority: Type.Integer(),
  metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  created_at: Type.String({ format: "date-time" }),
  started_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  attempts: Type.Integer({ description: "times the job was sent to the target" }),
  queue_position: Type.Union([Type.Integer(), Type.Null()], { description: "requests ahead of this job while it is queued" }),
  retry_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "after a failed attempt, when the job may run again; null when it may run now" }),
  progress: Type.Object({ chunks: Type.Integer(), tokens: Type.Integer() }),
  error: Type.Union([Type.Object({ message: Type.String(), status: Type.Integer() }), Type.Null()]),
  timings: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()], { description: "milliseconds: queueMs, loadMs, ttftMs, totalMs" }),
  links: Type.Object({ self: Type.String(), artifact: Type.String(), events: Type.String(), cancel: Type.String(), deliveries: Type.String() }),
});
export type Job = Static<typeof JobSchema>;

/** Live output of a running job (`event: job.progress` on its event stream). */
export const JobProgressSchema = Type.Object({
  chunks: Type.Integer({ description: "stream messages so far" }),
  tokens: Type.Integer({ description: "tokens generated so far" }),
  text: Type.String({ description: "text generated since the previous progress event" }),
});
export type JobProgress = Static<typeof JobProgressSchema>;

export const MAX_PAGE = 500;

/** GET /jobs filters; `cursor` is the `next_cursor` of the previous page. */
export const JobListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `page size, default 50, at most ${MAX_PAGE}` })),
    cursor: Type.Optional(Type.String({ maxLength: 64, description: "next_cursor of the previous page" })),
  },
  { additionalProperties: false },
);

/** One page of GET /jobs. */
export const JobListSchema = Type.Object({ jobs: Type.Array(JobSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `position` may be given when known (a new job's); otherwise it is counted when a queue is given. */
export function jobView(job: JobRecord, queue?: Queue, position?: number | null): Job {
  const self = `/jobs/${job.id}`;
  return {
    id: job.id,
    status: job.status,
    endpoint: job.endpoint,
    model: job.model,
    priority: job.priority,
    metadata: (job.metadata as Record<string, unknown> | null) ?? null,
    created_at: iso(job.createdAt)!,
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    attempts: job.attempts,
    queue_position: job.status !== "queued" ? null : (position ?? (queue ? queue.position(job) : null)),
    retry_at: iso(job.notBefore),
    progress: { chunks: job.progressChunks, tokens: job.progressTokens },
    error: job.error,
    timings: job.timings,
    links: { self, artifact: `${self}/artifact`, events: `${self}/events`, cancel: `${self}/cancel`, deliveries: `${self}/deliveries` },
  };
}

/** Server-Timing for a job: where its time went — the queue, the model load, the target, foreman itself. */
export function jobServerTiming(job: JobRecord): string {
  const t = job.timings ?? {};
  const foreman = job.finishedAt !== null && t.queueMs !== undefined && t.totalMs !== undefined ? job.finishedAt - job.createdAt - t.queueMs - t.totalMs : undefined;
  return serverTiming([
    { name: "queue", ms: t.queueMs },
    { name: "load", ms: t.loadMs, desc: "model load" },
    { name: "target", ms: t.totalMs },
    { name: "foreman", ms: foreman },
  ]);
}
