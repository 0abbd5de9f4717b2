// The job object clients see (GET /jobs/{id}, webhooks, events): one schema, one mapping
// from the stored record.
import { Type, type Static } from "@sinclair/typebox";
import { LANE_NAMES, type LaneName } from "../contract/lanes.ts";
import { MAX_PAGE } from "../contract/page.ts";
import { JOB_STATES } from "../contract/states.ts";
import { serverTiming } from "../ops/server-timing.ts";
import { formatGoDuration } from "./schedule.ts";
import { ASYNC, EXPIRED, INTERACTIVE, notYetStarted, type JobEvent, type JobRecord, type Lane, type Queue } from "./queue.ts";
import { UsageSchema } from "./usage-schema.ts";
import { ESTIMATE_LIMITS, ETA_REASONS, type StandingSource } from "../contract/eta.ts";

export const WEBHOOK_EVENTS = JOB_STATES.map((s) => `job.${s}` as const);

/** Where a job's time went, in milliseconds; a key appears once it is measured. */
const TimingsSchema = Type.Object(
  {
    queue_ms: Type.Optional(Type.Number({ description: "entering the queue (the last time) to being sent to the target" })),
    load_ms: Type.Optional(Type.Number({ description: "the target loading the model, until its first byte (only when the model was not resident)" })),
    ttft_ms: Type.Optional(Type.Number({ description: "sent to the target to its first byte" })),
    total_ms: Type.Optional(Type.Number({ description: "sent to the target to the end of its reply" })),
  },
  { additionalProperties: false },
);
export type Timings = Static<typeof TimingsSchema>;

/** The stored record keeps the names its timings were written with; the view speaks snake_case like the rest of the job. */
const TIMING_NAMES = { queueMs: "queue_ms", loadMs: "load_ms", ttftMs: "ttft_ms", totalMs: "total_ms" } as const satisfies Record<string, keyof Timings>;

function timingsView(stored: Record<string, number> | null): Timings | null {
  if (stored === null) return null;
  const out: Timings = {};
  for (const [name, key] of Object.entries(TIMING_NAMES)) if (stored[name] !== undefined) out[key] = stored[name];
  return out;
}

/** An estimate for a queued job (ADR 0038). */
const EtaSchema = Type.Object(
  {
    start_at: Type.String({ format: "date-time", description: "when the job should be sent to the target" }),
    finish_at: Type.String({ format: "date-time", description: "when it should end" }),
  },
  { additionalProperties: false },
);

/** The queue's lanes by the names clients use. */
const LANES: Record<LaneName, Lane> = { async: ASYNC, interactive: INTERACTIVE };
/** A lane by the name the API, the logs and the metrics give it. */
export const laneName = (lane: Lane): LaneName => (lane === INTERACTIVE ? "interactive" : "async");
const laneSchema = (description: string) => Type.Union(LANE_NAMES.map((l) => Type.Literal(l)), { description });

export const JobSchema = Type.Object({
  id: Type.String({ description: "time-sortable, opaque" }),
  status: Type.Union(JOB_STATES.map((s) => Type.Literal(s))),
  lane: laneSchema("async: a job from POST /jobs; interactive: a passthrough request (/api/chat, /v1/…) whose caller waits for the reply"),
  endpoint: Type.String(),
  model: Type.String(),
  priority: Type.Integer(),
  metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  created_at: Type.String({ format: "date-time" }),
  started_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  finished_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
  attempts: Type.Integer({ description: "times the job was sent to the target" }),
  preemptible: Type.Boolean({ description: "whether a waiting passthrough request may stop the job to run first (false when submitted so; always true for passthrough requests, which are never stopped)" }),
  preemptions: Type.Integer({ description: "times a passthrough request stopped the job and sent it back to the queue to run again from the start (not failures)" }),
  queue_position: Type.Union([Type.Integer(), Type.Null()], {
    description:
      `jobs and requests the scheduler will take before this one while it is queued, in the order \`eta\` follows (past the first ${ESTIMATE_LIMITS.horizon}, at least that many, counted by lane and arrival); in a replayed or webhook \`job.queued\` event, the count of queued work when it entered the queue`,
  }),
  eta: Type.Union([EtaSchema, Type.Null()], { description: "while queued: when the job should start and finish, from the scheduler's order and the durations of finished jobs; null when not queued or not known (`eta_reason` says why), and in a webhook or a replayed event" }),
  eta_reason: Type.Union([Type.Union(ETA_REASONS.map((r) => Type.Literal(r))), Type.Null()], {
    description:
      `why a queued job has no \`eta\`: \`no_history\` (no job of its model finished yet), \`behind_unknown\` (work ahead of it has no estimate), \`beyond_horizon\` (past the first ${ESTIMATE_LIMITS.horizon} jobs estimated); null otherwise, and in a webhook or a replayed event`,
  }),
  request_id: Type.Union([Type.String(), Type.Null()], { description: "the X-Request-Id of the request that made it (the one foreman's log lines carry)" }),
  retry_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "after a failed attempt, when the job may run again; null when it may run now (a scheduled start that has not come yet is `run_after`, not this)" }),
  run_after: Type.Union([Type.String({ format: "date-time" }), Type.Null()], { description: "the job does not start before this time (as submitted, kept after it starts); null: no scheduled start" }),
  start_by: Type.Union([Type.String({ format: "date-time" }), Type.Null()], {
    description: "a job not started by this time never starts: it ends `canceled` with the reason `expired`; null: it never expires",
  }),
  max_run: Type.Union([Type.String(), Type.Null()], {
    description: "the job's own run-time cap per attempt, counted from the target's first byte, as a Go duration (`10m0s`; `0s`: no cap); null: the server's default (FOREMAN_JOB_MAX_RUN_MS)",
  }),
  progress: Type.Object({ chunks: Type.Integer(), tokens: Type.Integer() }),
  error: Type.Union([Type.Object({ message: Type.String(), status: Type.Integer() }), Type.Null()]),
  timings: Type.Union([TimingsSchema, Type.Null()]),
  usage: Type.Union([UsageSchema, Type.Null()], { description: "what the job cost, once it is done; null before, and for work that did not finish done" }),
  batch_id: Type.Union([Type.String(), Type.Null()], { description: "the OpenAI batch the job is a line of (`GET /jobs?batch=` lists them); null for a job submitted on its own" }),
  custom_id: Type.Union([Type.String(), Type.Null()], { description: "that line's `custom_id` in the batch's input file; null outside a batch" }),
  links: Type.Object({ self: Type.String(), artifact: Type.String(), events: Type.String(), cancel: Type.String(), deliveries: Type.String() }),
  reason: Type.Optional(
    Type.String({
      description:
        "in an event or a webhook: why the job entered this state when foreman says so — `preempted` (back to the queue for a passthrough request), `expired` (canceled: not started by its start_by; also in the job view), or a message (a retry's error, the target unreachable, a restart, a cancel)",
    }),
  ),
});
export type Job = Static<typeof JobSchema>;

/** Live output of a running job (`event: job.progress` on its event stream). */
export const JobProgressSchema = Type.Object({
  chunks: Type.Integer({ description: "stream messages so far" }),
  tokens: Type.Integer({ description: "tokens generated so far" }),
  text: Type.String({ description: "text generated since the previous progress event; in the first one a subscriber gets mid-job, all the text so far" }),
  offset: Type.Integer({
    description: "where `text` starts in the job's output, in characters (Unicode code points): 0 in the first event a subscriber gets mid-job; a client that re-opened the stream skips what it already has",
  }),
});
export type JobProgress = Static<typeof JobProgressSchema>;


/** The lane a GET /jobs filter names (async when it names none). */
export const laneOf = (name: LaneName | undefined): Lane => LANES[name ?? "async"];

/** GET /jobs filters; `cursor` is the `next_cursor` of the previous page. */
export const JobListQuery = Type.Object(
  {
    lane: Type.Optional(laneSchema("async (default): jobs from POST /jobs; interactive: passthrough requests, with their queue positions while they wait")),
    status: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `page size, default 50, at most ${MAX_PAGE}` })),
    cursor: Type.Optional(Type.String({ maxLength: 64, description: "next_cursor of the previous page" })),
    batch: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "a batch's id (`batch_…`): only its lines, one job each (404 when there is no such batch)" })),
  },
  { additionalProperties: false },
);

/** One page of GET /jobs. */
export const JobListSchema = Type.Object({ jobs: Type.Array(JobSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * With `estimates`, a queued job shows its standing (position and eta); `position`, when known
 * (a new job's), saves counting one past the estimates' horizon. Without, the job shows
 * `position` alone.
 */
export function jobView(job: JobRecord, estimates?: StandingSource, position?: number | null): Job {
  const self = `/jobs/${job.id}`;
  const standing = estimates?.of(job, position ?? undefined);
  const eta = standing?.eta ?? null;
  return {
    id: job.id,
    status: job.status,
    lane: laneName(job.lane),
    endpoint: job.endpoint,
    model: job.model,
    priority: job.priority,
    metadata: (job.metadata as Record<string, unknown> | null) ?? null,
    created_at: iso(job.createdAt)!,
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    attempts: job.attempts,
    preemptible: job.preemptible,
    preemptions: job.preemptions,
    queue_position: job.status !== "queued" ? null : (standing?.position ?? position ?? null),
    eta: eta && { start_at: iso(eta.startAt)!, finish_at: iso(eta.finishAt)! },
    eta_reason: standing?.etaReason ?? null,
    request_id: job.requestId,
    // not_before gates both a back-off and a scheduled start; a back-off only ever follows a failure (ADR 0035)
    retry_at: job.failures === 0 ? null : iso(job.notBefore),
    run_after: iso(job.runAfter),
    start_by: iso(job.startBy),
    max_run: job.maxRunMs === null ? null : formatGoDuration(job.maxRunMs),
    progress: { chunks: job.progressChunks, tokens: job.progressTokens },
    error: job.error,
    timings: timingsView(job.timings),
    usage: job.usage,
    batch_id: job.batchId,
    custom_id: job.customId,
    links: { self, artifact: `${self}/artifact`, events: `${self}/events`, cancel: `${self}/cancel`, deliveries: `${self}/deliveries` },
    ...(isExpired(job) ? { reason: EXPIRED } : {}),
  };
}

/** Canceled at its start_by without having started: the expiry's doing (ADR 0035), told from the record alone. */
export const isExpired = (job: JobRecord): boolean => job.status === "canceled" && notYetStarted(job) && job.startBy !== null && job.finishedAt !== null && job.finishedAt >= job.startBy;

/**
 * The job as an event (the event stream, a webhook) shows it: with the reason foreman gave for
 * the change, and in a `queued` event its standing now when `estimates` is given (the job's
 * latest event), else the queue position stored with the event.
 */
export function eventView(job: JobRecord, event: JobEvent, estimates?: StandingSource): Job {
  const then = event.data?.queue_position;
  const view = jobView(job, estimates, estimates || typeof then !== "number" ? undefined : then);
  const reason = event.data?.reason;
  return typeof reason === "string" ? { ...view, reason } : view;
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
