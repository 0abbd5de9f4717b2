// A job as the jobs table stores it and as foreman reads it: the row, the record, the event,
// and the mapping between them. Split from the queue (issue 21) so its statements and its named
// operations read the same shapes without one file of a thousand lines.
import type { JobStatus } from "../contract/states.ts";
import type { BacklogJob, Candidate } from "./heads.ts";
import type { Usage } from "./usage-schema.ts";

/** 0: a passthrough request whose caller is waiting; 1: an async job. */
export type Lane = 0 | 1;
export const INTERACTIVE: Lane = 0;
export const ASYNC: Lane = 1;

export interface JobError {
  message: string;
  status: number;
}

export interface JobRecord {
  seq: number;
  id: string;
  lane: Lane;
  endpoint: string;
  model: string;
  modelKey: string;
  /** The model and the load-time options the job asks for: what the scheduler groups work by (ADR 0021). */
  drainKey: string;
  priority: number;
  status: JobStatus;
  metadata: unknown;
  webhook: unknown;
  idempotencyKey: string | null;
  requestHash: string | null;
  attempts: number;
  failures: number;
  createdAt: number;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  progressChunks: number;
  progressTokens: number;
  error: JobError | null;
  timings: Record<string, number> | null;
  /** The X-Request-Id of the request that made it (POST /jobs, or the passthrough request itself). */
  requestId: string | null;
  /** A queued job backing off after a failure does not run before this time (ms). */
  notBefore: number | null;
  /** Whether an interactive request may stop the job to run first (ADR 0020). */
  preemptible: boolean;
  /** Times an interactive request stopped the job (not failures). */
  preemptions: number;
  /** When the job was asked not to start before (ms), or null (ADR 0035); its gate is notBefore. */
  runAfter: number | null;
  /** When the job expires if it has not started by then (ms), or null. */
  startBy: number | null;
  /** The job's own run-time cap per attempt (ms; 0: none), or null for the lane's default. */
  maxRunMs: number | null;
  /** What the job cost, once it is done (ADR 0036). */
  usage: Usage | null;
  /** Who asked: the caller's address and User-Agent product (ADR 0036). */
  client: string | null;
  /** The caller's tag: `metadata.tag` of a job, `X-Foreman-Tag` of a passthrough request. */
  tag: string | null;
  /** The batch the job is a line of (ADR 0039), or null. */
  batchId: string | null;
  /** That line's custom_id, or null. */
  customId: string | null;
}

/**
 * The fields a state change may alter. Each event keeps them as they were right after it, so
 * the event can be replayed later with the job as it was then.
 */
const CHANGING = ["status", "attempts", "failures", "preemptions", "queuedAt", "startedAt", "finishedAt", "updatedAt", "progressChunks", "progressTokens", "error", "timings", "notBefore"] as const satisfies readonly (keyof JobRecord)[];
export type Snapshot = Pick<JobRecord, (typeof CHANGING)[number]>;

export const snapshotOf = (job: JobRecord): Snapshot => Object.fromEntries(CHANGING.map((k) => [k, job[k]])) as Snapshot;

export interface JobEvent {
  id: number;
  jobId: string;
  type: JobStatus;
  at: number;
  data: Record<string, unknown> | null;
}

export interface Row {
  seq: number;
  id: string;
  lane: number;
  endpoint: string;
  model: string;
  model_key: string;
  drain_key: string;
  priority: number;
  status: string;
  metadata: string | null;
  webhook: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  attempts: number;
  failures: number;
  created_at: number;
  queued_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  progress_chunks: number;
  progress_tokens: number;
  error: string | null;
  timings: string | null;
  request_id: string | null;
  not_before: number | null;
  preemptible: number;
  preemptions: number;
  run_after: number | null;
  start_by: number | null;
  max_run_ms: number | null;
  usage: string | null;
  client: string | null;
  tag: string | null;
  batch_id: string | null;
  custom_id: string | null;
}

export const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

export function toRecord(r: Row): JobRecord {
  return {
    seq: r.seq,
    id: r.id,
    lane: r.lane as Lane,
    endpoint: r.endpoint,
    model: r.model,
    modelKey: r.model_key,
    drainKey: r.drain_key,
    priority: r.priority,
    status: r.status as JobStatus,
    metadata: parse(r.metadata),
    webhook: parse(r.webhook),
    idempotencyKey: r.idempotency_key,
    requestHash: r.request_hash,
    attempts: r.attempts,
    failures: r.failures,
    createdAt: r.created_at,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
    progressChunks: r.progress_chunks,
    progressTokens: r.progress_tokens,
    error: parse(r.error) as JobError | null,
    timings: parse(r.timings) as Record<string, number> | null,
    requestId: r.request_id,
    notBefore: r.not_before,
    preemptible: r.preemptible === 1,
    preemptions: r.preemptions,
    runAfter: r.run_after,
    startBy: r.start_by,
    maxRunMs: r.max_run_ms,
    usage: parse(r.usage) as Usage | null,
    client: r.client,
    tag: r.tag,
    batchId: r.batch_id,
    customId: r.custom_id,
  };
}

export interface HeadRow {
  id: string;
  seq: number;
  drain_key: string;
  priority: number;
  created_at: number;
}
export const toCandidate = (r: HeadRow): Candidate => ({ id: r.id, seq: r.seq, drainKey: r.drain_key, priority: r.priority, queuedAt: r.created_at });

export interface BacklogRow extends HeadRow {
  lane: number;
  endpoint: string;
  model_key: string;
  not_before: number | null;
}
export const toBacklogJob = (r: BacklogRow): BacklogJob => ({ ...toCandidate(r), lane: r.lane as Lane, endpoint: r.endpoint, modelKey: r.model_key });

export interface EventRow {
  id: number;
  job_id: string;
  type: string;
  at: number;
  data: string | null;
  snapshot: string | null;
}

export const toEvent = (e: EventRow): JobEvent => ({ id: e.id, jobId: e.job_id, type: e.type as JobStatus, at: e.at, data: parse(e.data) as Record<string, unknown> | null });
