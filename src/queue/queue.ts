// The durable queue: the only module that writes SQL for jobs. Enqueue is one committed
// transaction; every state change goes through transition(), which checks the state table,
// updates the job and appends its event — and whatever the outbox hooks add — atomically.
// Listeners outside the database (long-polls, the event stream, metrics) hear of a change only
// after the outermost transaction commits and that commit is on disk (ADR 0016), never of one
// that rolled back.
import type { Database } from "bun:sqlite";
import { Durability } from "../store/durability.ts";
import { newId } from "../store/ids.ts";
import { checkTransition, type JobStatus } from "../contract/states.ts";
import { modelKey } from "../ollama/model-name.ts";
import { drainKey, type RequestedLoad } from "../ollama/load-options.ts";
import type { AgeEntry, BacklogJob, BacklogReader, Candidate, FinishedSample, ModelHead, QueueHeads } from "./heads.ts";
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
}

/**
 * The fields a state change may alter. Each event keeps them as they were right after it, so
 * the event can be replayed later with the job as it was then.
 */
const CHANGING = ["status", "attempts", "failures", "preemptions", "queuedAt", "startedAt", "finishedAt", "updatedAt", "progressChunks", "progressTokens", "error", "timings", "notBefore"] as const satisfies readonly (keyof JobRecord)[];
type Snapshot = Pick<JobRecord, (typeof CHANGING)[number]>;

const snapshotOf = (job: JobRecord): Snapshot => Object.fromEntries(CHANGING.map((k) => [k, job[k]])) as Snapshot;

export interface JobEvent {
  id: number;
  jobId: string;
  type: JobStatus;
  at: number;
  data: Record<string, unknown> | null;
}

export interface EnqueueInput {
  lane: Lane;
  endpoint: string;
  model: string;
  priority?: number;
  request?: string | null;
  metadata?: unknown;
  webhook?: unknown;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  requestId?: string | null;
  /** The load-time options the request asks for (none: the model's defaults). */
  load?: RequestedLoad;
  /** false: never preempted (async jobs only; default true). */
  preemptible?: boolean;
  /** A scheduled start (ADR 0035): recorded as asked, and the job waits until then like a back-off. */
  runAfter?: number | null;
  /** Not started by then, the job is canceled as expired. */
  startBy?: number | null;
  maxRunMs?: number | null;
  client?: string | null;
  tag?: string | null;
}

export interface TransitionPatch {
  error?: JobError;
  artifact?: { contentType: string; body: Uint8Array | string };
  /** A dispatch to the target (counted on entering loading/working from queued). */
  attempt?: boolean;
  /** A failed attempt that counts against the retry bound. */
  failure?: boolean;
  /** Stopped for an interactive request: counted apart from failures (ADR 0020). */
  preempted?: boolean;
  timings?: Record<string, number>;
  /** Final progress, written with the state change instead of in a separate commit. */
  progress?: { chunks: number; tokens: number };
  /** Extra detail stored with the event (e.g. why a job went back to the queue). */
  data?: Record<string, unknown>;
  /** Back to the queue, but not to run before this time (ms): the job's own back-off. */
  notBefore?: number;
  /**
   * Back to the queue behind everything queued now (a new `seq`, the queue's order in both
   * lanes): a request the target dropped again (ADR 0030).
   */
  toBack?: boolean;
  /** What the finished job cost. */
  usage?: Usage;
}

/**
 * How a transaction commits (ADR 0016): `synced` waits for the disk before it returns;
 * `deferred` does not, and what it publishes waits for the next sync instead. Nested
 * transactions join the outermost one and its way of committing.
 */
export type Commit = "synced" | "deferred";

/** Runs inside the transition's transaction: the outbox writes its rows here. */
export type EventHook = (job: JobRecord, event: JobEvent) => void;

/** Rows another module keeps per job (webhook deliveries): retention asks before removing a job. */
export interface JobDependents {
  /** Whether the job must stay (e.g. a webhook still to deliver). */
  holds(jobId: string): boolean;
  /** Removes the module's rows for the job, inside the pruning transaction. */
  remove(jobId: string): void;
}

interface Row {
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
}

const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

function toRecord(r: Row): JobRecord {
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
  };
}

interface HeadRow {
  id: string;
  seq: number;
  drain_key: string;
  priority: number;
  created_at: number;
}
const toCandidate = (r: HeadRow): Candidate => ({ id: r.id, seq: r.seq, drainKey: r.drain_key, priority: r.priority, queuedAt: r.created_at });

interface BacklogRow extends HeadRow {
  lane: number;
  endpoint: string;
  model_key: string;
  not_before: number | null;
}
const toBacklogJob = (r: BacklogRow): BacklogJob => ({ ...toCandidate(r), lane: r.lane as Lane, endpoint: r.endpoint, modelKey: r.model_key });

interface EventRow {
  id: number;
  job_id: string;
  type: string;
  at: number;
  data: string | null;
  snapshot: string | null;
}

const toEvent = (e: EventRow): JobEvent => ({ id: e.id, jobId: e.job_id, type: e.type as JobStatus, at: e.at, data: parse(e.data) as Record<string, unknown> | null });

type Params = Record<string, string | number | null>;
const TERMINAL_SQL = "('done', 'failed', 'canceled')";
// a scheduled job waits (for aging, ADR 0035) from when it fell due, not from its submission
const COLUMNS_HEAD = "id, seq, drain_key, priority, MAX(created_at, COALESCE(run_after, 0)) AS created_at";
const COLUMNS_BACKLOG = `${COLUMNS_HEAD}, lane, endpoint, model_key, not_before`;
/**
 * A job's record: every column but its request body, which only the worker needs, once, when it
 * sends the job (`requestOf`). A body of tens of megabytes read back with every transition and
 * view would be as many copies of it in memory (issue 24).
 */
const COLUMNS_RECORD = `seq, id, lane, endpoint, model, model_key, drain_key, priority, status, metadata, webhook, idempotency_key, request_hash,
  attempts, failures, created_at, queued_at, started_at, finished_at, updated_at, progress_chunks, progress_tokens, error, timings, request_id,
  not_before, preemptible, preemptions, run_after, start_by, max_run_ms, usage, client, tag`;

/**
 * Every statement the queue runs, prepared once (bun:sqlite caches by SQL text). Writes do not
 * use RETURNING: on the jobs table it costs several times the write itself (measured: an insert
 * 28 µs with it, 7 µs without), so ids come from lastInsertRowid and rows from a read by key.
 */
function statements(db: Database) {
  const list = (where: string) => db.query<Row, Params>(`SELECT ${COLUMNS_RECORD} FROM jobs WHERE lane = $lane ${where} AND seq < $before ORDER BY seq DESC LIMIT $limit`);
  return {
    insert: db.query<never, Params>(`INSERT INTO jobs (id, lane, endpoint, model, model_key, drain_key, priority, status, request, metadata, webhook, idempotency_key, request_hash, request_id, preemptible, client, tag, created_at, queued_at, updated_at, run_after, start_by, max_run_ms, not_before)
       VALUES ($id, $lane, $endpoint, $model, $modelKey, $drainKey, $priority, 'queued', $request, $metadata, $webhook, $idem, $hash, $requestId, $preemptible, $client, $tag, $now, $now, $now, $runAfter, $startBy, $maxRunMs, $notBefore)`),
    event: db.query<never, [string, string, number, string | null, string]>(`INSERT INTO job_events (job_id, type, at, data, snapshot) VALUES (?, ?, ?, ?, ?)`),
    get: db.query<Row, [string]>(`SELECT ${COLUMNS_RECORD} FROM jobs WHERE id = ?`),
    request: db.query<{ request: string | null }, [string]>(`SELECT request FROM jobs WHERE id = ?`),
    state: db.query<{ status: JobStatus; timings: string | null }, [string]>(`SELECT status, timings FROM jobs WHERE id = ?`),
    // one statement for every transition: each patch field is null when the patch does not set it
    transition: db.query<never, Params>(`UPDATE jobs SET
         status = $to,
         updated_at = $now,
         queued_at = CASE WHEN $to = 'queued' THEN $now ELSE queued_at END,
         attempts = attempts + $attempt,
         failures = failures + $failure,
         preemptions = preemptions + $preempted,
         started_at = CASE WHEN $to IN ('loading', 'working') AND started_at IS NULL THEN $now ELSE started_at END,
         finished_at = CASE WHEN $to IN ${TERMINAL_SQL} THEN $now ELSE finished_at END,
         error = COALESCE($error, error),
         progress_chunks = COALESCE($chunks, progress_chunks),
         progress_tokens = COALESCE($tokens, progress_tokens),
         timings = COALESCE($timings, timings),
         usage = COALESCE($usage, usage),
         not_before = $notBefore
       WHERE id = $id`),
    // a statement apart: naming the row id in every transition's SET would make SQLite move the row each time
    toBack: db.query<never, [string]>(`UPDATE jobs SET seq = (SELECT MAX(seq) + 1 FROM jobs) WHERE id = ?`),
    byKey: db.query<Row, [string]>(`SELECT ${COLUMNS_RECORD} FROM jobs WHERE idempotency_key = ?`),
    queuedCount: db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'`),
    waitingInteractive: db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND lane = 0`),
    interactive: db.query<HeadRow, []>(`SELECT ${COLUMNS_HEAD} FROM jobs WHERE status = 'queued' AND lane = 0 ORDER BY seq LIMIT 1`),
    // loose index scan: one seek per distinct queued drain key (model and load-time options)
    // instead of reading every row, so the scheduler's input costs O(groups), not O(queued
    // jobs). Jobs backing off are not in these partial indexes (not_before IS NULL), so they
    // cost nothing here either.
    models: db.query<{ k: string }, []>(`WITH RECURSIVE m(k) AS (
         SELECT (SELECT drain_key FROM jobs WHERE status = 'queued' AND not_before IS NULL AND lane = 1 ORDER BY drain_key LIMIT 1)
         UNION ALL
         SELECT (SELECT drain_key FROM jobs WHERE status = 'queued' AND not_before IS NULL AND lane = 1 AND drain_key > m.k ORDER BY drain_key LIMIT 1) FROM m WHERE m.k IS NOT NULL)
       SELECT k FROM m WHERE k IS NOT NULL`),
    // The first entry of a model in jobs_queued_best is its best job (priority DESC, then seq) and
    // in jobs_queued_age its oldest: the seek reads exactly one index entry. No ORDER BY on
    // purpose: with one, SQLite 3.5x still walks the index's entries for the model (about 20 µs per
    // decision with a few thousand queued, rising with the queue) although the index already
    // gives that order; INDEXED BY pins the index, and a test checks the choice against a sort.
    best: db.query<HeadRow, [string]>(`SELECT ${COLUMNS_HEAD} FROM jobs INDEXED BY jobs_queued_best
       WHERE status = 'queued' AND not_before IS NULL AND lane = 1 AND drain_key = ? LIMIT 1`),
    oldest: db.query<{ created_at: number }, [string]>(`SELECT MAX(created_at, COALESCE(run_after, 0)) AS created_at FROM jobs INDEXED BY jobs_queued_age
       WHERE status = 'queued' AND not_before IS NULL AND lane = 1 AND drain_key = ? LIMIT 1`),
    // the forecast's reads (ADR 0038): the first `limit` of each order, through the same indexes
    // as the scheduler's seeks, so their cost is bounded by the limit, not by the queue
    backlogInteractive: db.query<BacklogRow, [number]>(`SELECT ${COLUMNS_BACKLOG} FROM jobs INDEXED BY jobs_queued_lane WHERE status = 'queued' AND lane = 0 ORDER BY lane, seq LIMIT ?`),
    backlogBest: db.query<BacklogRow, [string, number, number]>(`SELECT ${COLUMNS_BACKLOG} FROM jobs INDEXED BY jobs_queued_best
       WHERE status = 'queued' AND not_before IS NULL AND lane = 1 AND drain_key = ? ORDER BY lane, drain_key, priority DESC, seq LIMIT ? OFFSET ?`),
    backlogAge: db.query<{ id: string; seq: number; created_at: number }, [string, number, number]>(`SELECT id, seq, created_at FROM jobs INDEXED BY jobs_queued_age
       WHERE status = 'queued' AND not_before IS NULL AND lane = 1 AND drain_key = ? ORDER BY lane, drain_key, seq LIMIT ? OFFSET ?`),
    backlogLater: db.query<BacklogRow, [number, number]>(
      `SELECT ${COLUMNS_BACKLOG} FROM jobs INDEXED BY jobs_not_before WHERE not_before IS NOT NULL AND status = 'queued' ORDER BY not_before, seq LIMIT ? OFFSET ?`,
    ),
    // the last finished jobs, newest first: what the estimates learn durations from
    finishedRecent: db.query<{ model_key: string; endpoint: string; timings: string | null; progress_tokens: number }, [number]>(
      `SELECT model_key, endpoint, timings, progress_tokens FROM jobs INDEXED BY jobs_finished WHERE finished_at IS NOT NULL AND status = 'done' ORDER BY finished_at DESC LIMIT ?`,
    ),
    // back-off ends: the jobs whose time has come enter the scheduler's indexes again
    release: db.query<never, [number]>(`UPDATE jobs SET not_before = NULL WHERE not_before <= ?`),
    nextRelease: db.query<{ at: number | null }, []>(`SELECT MIN(not_before) AS at FROM jobs WHERE not_before IS NOT NULL`),
    notDue: db.query<{ n: number }, [number]>(`SELECT COUNT(*) AS n FROM jobs WHERE not_before > ?`),
    // expiry (ADR 0035): queued work not started (see notYetStarted) whose start_by has come, from its partial index
    expiring: db.query<{ id: string }, [number, number]>(`SELECT id FROM jobs INDEXED BY jobs_start_by
       WHERE status = 'queued' AND start_by IS NOT NULL AND failures = 0 AND preemptions = 0 AND start_by <= ? ORDER BY start_by LIMIT ?`),
    nextExpiry: db.query<{ at: number | null }, []>(`SELECT MIN(start_by) AS at FROM jobs INDEXED BY jobs_start_by
       WHERE status = 'queued' AND start_by IS NOT NULL AND failures = 0 AND preemptions = 0`),
    progress: db.query<never, [number, number, number, string]>(`UPDATE jobs SET progress_chunks = ?, progress_tokens = ?, updated_at = ? WHERE id = ?`),
    artifact: db.query<never, [string, string, Uint8Array, number]>(`INSERT OR REPLACE INTO artifacts (job_id, content_type, body, created_at) VALUES (?, ?, ?, ?)`),
    artifactOf: db.query<{ content_type: string; body: Uint8Array }, [string]>(`SELECT content_type, body FROM artifacts WHERE job_id = ?`),
    events: db.query<EventRow, [string, number]>(`SELECT id, job_id, type, at, data, snapshot FROM job_events WHERE job_id = ? AND id > ? ORDER BY id`),
    position: db.query<{ n: number }, Params>(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND (lane < $lane OR (lane = $lane AND seq < $seq))`),
    counts: db.query<{ model: string; status: JobStatus; n: number; oldest: number }, []>(
      `SELECT model_key AS model, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs WHERE status IN ('queued', 'loading', 'working') GROUP BY model_key, status`,
    ),
    // GET /jobs: one statement per filter shape, so each can use its index
    list: { all: list(""), status: list("AND status = $status"), model: list("AND model_key = $model"), both: list("AND status = $status AND model_key = $model") },
    stranded: db.query<{ id: string; lane: number; failures: number }, []>(
      `SELECT id, lane, failures FROM jobs WHERE status IN ('queued', 'loading', 'working') AND (lane = 0 OR status != 'queued')`,
    ),
    // retention walks finished jobs in (finished_at, seq) order, resuming after the last one it looked at
    finished: db.query<{ id: string; seq: number; finished_at: number }, Params>(
      `SELECT id, seq, finished_at FROM jobs INDEXED BY jobs_finished
       WHERE finished_at < $cutoff AND status IN ${TERMINAL_SQL} AND (finished_at > $afterAt OR (finished_at = $afterAt AND seq > $afterSeq))
       ORDER BY finished_at, seq LIMIT $limit`,
    ),
    deleteEvents: db.query<never, [string]>(`DELETE FROM job_events WHERE job_id = ?`),
    deleteArtifact: db.query<never, [string]>(`DELETE FROM artifacts WHERE job_id = ?`),
    deleteJob: db.query<never, [string]>(`DELETE FROM jobs WHERE id = ?`),
  };
}

/** Where retention stopped looking: it resumes after this finished job. */
export interface PruneCursor {
  finishedAt: number;
  seq: number;
}

/** The reason a job past its start_by was canceled with (ADR 0035). */
export const EXPIRED = "expired";

/**
 * Whether a job's `start_by` still applies (ADR 0035): no attempt of it has reached the target —
 * none failed (a retry, a restart mid-run), none was preempted. A dispatch that found the target
 * asleep does not count: that work never began.
 */
export const notYetStarted = (job: Pick<JobRecord, "failures" | "preemptions">): boolean => job.failures === 0 && job.preemptions === 0;

class JobNotFound extends Error {
  constructor(readonly id: string) {
    super(`job ${id} not found`);
  }
}

export class Queue {
  private readonly hooks: EventHook[] = [];
  private readonly committed: EventHook[] = [];
  private readonly failed: ((err: unknown) => void)[] = [];
  private readonly dependents: JobDependents[] = [];
  /** Work waiting for the outermost transaction to commit; dropped if it rolls back. */
  private afterCommit: (() => void)[] = [];
  /** News for the outside, waiting for the outermost commit to be on disk; dropped if it rolls back. */
  private afterSync: (() => void)[] = [];
  private depth = 0;
  /** Queued rows right now, kept in step with every commit (so no COUNT on the hot path). */
  private queuedNow: number;
  private readonly s: ReturnType<typeof statements>;
  /** Runs a function in a transaction (a savepoint when nested); made once, as bun:sqlite builds several wrappers per call. */
  private readonly inTransaction: <T>(fn: () => T) => T;

  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
    /** Without one (tests of the queue alone), a commit counts as on disk at once. */
    readonly durability: Durability = new Durability(db, null, "normal"),
  ) {
    this.s = statements(db);
    this.inTransaction = db.transaction((fn: () => unknown) => fn()) as <T>(fn: () => T) => T;
    this.queuedNow = this.s.queuedCount.get()!.n;
  }

  /** Registers a hook that runs inside every transition's transaction (the outbox). */
  onEvent(hook: EventHook): void {
    this.hooks.push(hook);
  }

  /** Registers a listener that hears of each event once its transaction has committed and is on disk. */
  onCommitted(listener: EventHook): void {
    this.committed.push(listener);
  }

  /** Registers a listener for transactions that failed and rolled back (metrics count the database's refusals). */
  onFailed(listener: (err: unknown) => void): void {
    this.failed.push(listener);
  }

  /** Registers rows another module keeps per job, so retention removes them with the job. */
  addDependents(dependents: JobDependents): void {
    this.dependents.push(dependents);
  }

  /**
   * Runs `fn` in a transaction; nested calls become savepoints of the outer one. What the
   * transaction changes in memory (the queued count) takes effect after the outermost commit,
   * what it publishes (events to listeners) once that commit is on disk — and neither if it, or
   * the savepoint that did it, rolls back. `commit` applies to the outermost transaction.
   */
  atomically<T>(fn: () => T, commit: Commit = "synced"): T {
    const outermost = this.depth === 0;
    const marks = [this.afterCommit.length, this.afterSync.length] as const;
    this.depth++;
    let result: T;
    try {
      result = outermost ? this.durability.commit(() => this.inTransaction(fn), commit === "deferred") : this.inTransaction(fn);
    } catch (err) {
      this.afterCommit.length = marks[0];
      this.afterSync.length = marks[1];
      if (outermost) for (const l of this.failed) l(err);
      throw err;
    } finally {
      this.depth--;
    }
    if (outermost) {
      const work = this.afterCommit;
      const news = this.afterSync;
      this.afterCommit = [];
      this.afterSync = [];
      for (const w of work) w();
      for (const n of news) this.durability.afterSync(n);
    }
    return result;
  }

  /** Runs `work` once the current transaction commits (at once outside a transaction). */
  whenCommitted(work: () => void): void {
    if (this.depth === 0) work();
    else this.afterCommit.push(work);
  }

  /** Runs `work` once the current transaction has committed and is on disk: what tells the outside. */
  whenDurable(work: () => void): void {
    if (this.depth === 0) this.durability.afterSync(work);
    else this.afterSync.push(work);
  }

  /** Resolves once every commit so far is on disk: a reply built from the queue waits for it. */
  settled(): Promise<void> {
    return this.durability.settled();
  }

  /** How many jobs are queued (all lanes). */
  get queuedCount(): number {
    return this.queuedNow;
  }

  /**
   * A passthrough record is deferred: its caller holds the request, and a restart cancels it
   * anyway, so it never waits for the disk.
   */
  enqueue(input: EnqueueInput): JobRecord {
    return this.atomically(() => {
      const now = this.clock();
      const key = modelKey(input.model);
      const row: Row = {
        seq: 0,
        id: newId(now),
        lane: input.lane,
        endpoint: input.endpoint,
        model: input.model,
        model_key: key,
        drain_key: drainKey(key, input.load ?? {}),
        priority: input.priority ?? 0,
        status: "queued",
        metadata: input.metadata === undefined ? null : JSON.stringify(input.metadata),
        webhook: input.webhook === undefined ? null : JSON.stringify(input.webhook),
        idempotency_key: input.idempotencyKey ?? null,
        request_hash: input.requestHash ?? null,
        attempts: 0,
        failures: 0,
        created_at: now,
        queued_at: now,
        started_at: null,
        finished_at: null,
        updated_at: now,
        progress_chunks: 0,
        progress_tokens: 0,
        error: null,
        timings: null,
        request_id: input.requestId ?? null,
        not_before: null,
        preemptible: input.preemptible === false ? 0 : 1,
        preemptions: 0,
        run_after: input.runAfter ?? null,
        start_by: input.startBy ?? null,
        max_run_ms: input.maxRunMs ?? null,
        usage: null,
        client: input.client ?? null,
        tag: input.tag ?? null,
      };
      // a scheduled start waits as a back-off does: out of the scheduler's indexes until then
      row.not_before = row.run_after !== null && row.run_after > now ? row.run_after : null;
      row.seq = this.s.insert.run({
        id: row.id,
        lane: row.lane,
        endpoint: row.endpoint,
        model: row.model,
        modelKey: row.model_key,
        drainKey: row.drain_key,
        priority: row.priority,
        request: input.request ?? null,
        metadata: row.metadata,
        webhook: row.webhook,
        idem: row.idempotency_key,
        hash: row.request_hash,
        requestId: row.request_id,
        preemptible: row.preemptible,
        runAfter: row.run_after,
        startBy: row.start_by,
        maxRunMs: row.max_run_ms,
        notBefore: row.not_before,
        client: row.client,
        tag: row.tag,
        now,
      }).lastInsertRowid as number;
      const job = toRecord(row);
      // a new async job is behind everything queued (its seq is the highest): the count POST /jobs
      // reports; a passthrough request only behind the other waiting requests, a short count
      const position = input.lane === INTERACTIVE ? this.position(job) : this.queuedNow;
      this.appendEvent(job, "queued", now, { queue_position: position });
      this.whenCommitted(() => this.queuedNow++);
      return job;
    }, input.lane === INTERACTIVE ? "deferred" : "synced");
  }

  get(id: string): JobRecord | null {
    const row = this.s.get.get(id);
    return row ? toRecord(row) : null;
  }

  /** The job's target request body (JSON text), read only to send it; null for passthrough, whose caller holds it. */
  requestOf(id: string): string | null {
    return this.s.request.get(id)?.request ?? null;
  }

  byIdempotencyKey(key: string): JobRecord | null {
    const row = this.s.byKey.get(key);
    return row ? toRecord(row) : null;
  }

  /** Moves a job to another state, atomically with its event (and outbox rows). */
  transition(id: string, to: JobStatus, patch: TransitionPatch = {}, commit: Commit = "synced"): JobRecord {
    return this.atomically(() => {
      const current = this.s.state.get(id);
      if (!current) throw new JobNotFound(id);
      checkTransition(current.status, to);
      const now = this.clock();
      this.s.transition.run({
        id,
        to,
        now,
        attempt: patch.attempt ? 1 : 0,
        failure: patch.failure ? 1 : 0,
        preempted: patch.preempted ? 1 : 0,
        error: patch.error ? JSON.stringify(patch.error) : null,
        chunks: patch.progress?.chunks ?? null,
        tokens: patch.progress?.tokens ?? null,
        timings: patch.timings ? JSON.stringify({ ...(parse(current.timings) as Record<string, number> | null), ...patch.timings }) : null,
        notBefore: to === "queued" ? (patch.notBefore ?? null) : null,
        usage: patch.usage ? JSON.stringify(patch.usage) : null,
      });
      if (to === "queued" && patch.toBack) this.s.toBack.run(id);
      if (patch.artifact) {
        const { contentType, body } = patch.artifact;
        this.s.artifact.run(id, contentType, typeof body === "string" ? new TextEncoder().encode(body) : body, now);
      }
      const job = toRecord(this.s.get.get(id)!);
      const data = patch.data ?? (patch.error ? { error: patch.error } : null);
      // back in the queue (a retry, a preemption, the target gone, a restart: rare) with its place then
      this.appendEvent(job, to, now, to === "queued" ? { ...data, queue_position: this.position(job) } : data);
      const delta = (to === "queued" ? 1 : 0) - (current.status === "queued" ? 1 : 0);
      if (delta !== 0) this.whenCommitted(() => (this.queuedNow += delta));
      return job;
    }, commit);
  }

  private appendEvent(job: JobRecord, type: JobStatus, at: number, data: Record<string, unknown> | null): void {
    const id = this.s.event.run(job.id, type, at, data === null ? null : JSON.stringify(data), JSON.stringify(snapshotOf(job))).lastInsertRowid as number;
    const event: JobEvent = { id, jobId: job.id, type, at, data };
    for (const hook of this.hooks) hook(job, event);
    const publish = () => this.committed.forEach((l) => l(job, event));
    // A job's state change asks for its sync as it commits, whoever listens: nothing is left
    // off the disk when the worker goes idle. Nobody outside acts on a passthrough record (its
    // caller gets the target's reply itself, a restart cancels it): it never asks for one.
    if (job.lane !== INTERACTIVE) this.whenDurable(publish);
    else if (this.committed.length > 0) this.whenCommitted(publish);
  }

  /** Throttled by the caller; no event, no outbox, never synced on its own: it rides along with the next sync. */
  progress(id: string, chunks: number, tokens: number): void {
    this.atomically(() => this.s.progress.run(chunks, tokens, this.clock(), id), "deferred");
  }

  /** Jobs whose back-off ended by `now` can run again; returns how many. Writes only when some did. */
  releaseDue(now: number): number {
    const next = this.nextRelease();
    return next !== null && next <= now ? this.s.release.run(now).changes : 0;
  }

  /** When the next backing-off job may run again, or null when none is backing off. */
  nextRelease(): number | null {
    return this.s.nextRelease.get()!.at;
  }

  /** Queued jobs whose scheduled start or back-off has not come by `now`: not work for the target yet. */
  notDueCount(now: number): number {
    return this.s.notDue.get(now)!.n;
  }

  /**
   * Expiry (ADR 0035): up to `batch` queued jobs never started whose start_by has come are
   * canceled with the reason `expired`, each through transition() (its event and webhook), in
   * one commit. Returns how many.
   */
  expireDue(now: number, batch = 1000): number {
    const due = this.s.expiring.all(now, batch);
    if (due.length === 0) return 0;
    return this.atomically(() => {
      for (const { id } of due) this.expire(id);
      return due.length;
    });
  }

  /** Cancels a queued job past its start_by, with the reason `expired`. */
  expire(id: string): JobRecord {
    return this.transition(id, "canceled", { data: { reason: EXPIRED } });
  }

  /** When the next queued job expires (its start_by), or null. */
  nextExpiry(): number | null {
    return this.s.nextExpiry.get()!.at;
  }

  /** The heads the scheduler chooses from: a handful of index seeks, whatever the queue length. */
  heads(): QueueHeads {
    const models: ModelHead[] = [];
    for (const { k } of this.s.models.all()) {
      const best = this.s.best.get(k)!;
      const oldest = this.s.oldest.get(k)!;
      models.push({ drainKey: k, best: toCandidate(best), oldestQueuedAt: oldest.created_at });
    }
    return { interactive: this.oldestInteractive(), models };
  }

  /** The passthrough request that has waited longest (it runs next), or null: one index seek. */
  oldestInteractive(): Candidate | null {
    const row = this.s.interactive.get();
    return row ? toCandidate(row) : null;
  }

  /** The queued work as the forecast reads it (ADR 0038): each order the scheduler takes from, a page at a time. */
  backlog(): BacklogReader {
    const { s } = this;
    return {
      drainKeys: () => s.models.all().map(({ k }) => k),
      best: (k, offset, limit) => s.backlogBest.all(k, limit, offset).map(toBacklogJob),
      byAge: (k, offset, limit) => s.backlogAge.all(k, limit, offset).map((r): AgeEntry => ({ id: r.id, seq: r.seq, queuedAt: r.created_at })),
      interactive: (limit) => s.backlogInteractive.all(limit).map(toBacklogJob),
      later: (offset, limit) => s.backlogLater.all(limit, offset).map((r) => ({ ...toBacklogJob(r), notBefore: r.not_before! })),
    };
  }

  /** What the last `limit` jobs that ended done measured on the target, newest first. */
  finishedSamples(limit: number): FinishedSample[] {
    const samples: FinishedSample[] = [];
    for (const r of this.s.finishedRecent.all(limit)) {
      const t = parse(r.timings) as Record<string, number> | null;
      if (t?.ttftMs === undefined || t.totalMs === undefined) continue;
      samples.push({ modelKey: r.model_key, endpoint: r.endpoint, loadMs: t.loadMs, ttftMs: t.ttftMs, totalMs: t.totalMs, tokens: r.progress_tokens });
    }
    return samples;
  }

  /**
   * One lane's work newest first (async jobs, or passthrough records), optionally by status and
   * model; `before` is the seq to continue after (the cursor).
   */
  list(filter: { lane: Lane; status?: JobStatus; model?: string; before?: number; limit: number }): JobRecord[] {
    const { list } = this.s;
    const statement = filter.status ? (filter.model ? list.both : list.status) : filter.model ? list.model : list.all;
    const params: Params = { lane: filter.lane, before: filter.before ?? Number.MAX_SAFE_INTEGER, limit: filter.limit };
    if (filter.status) params.status = filter.status;
    if (filter.model) params.model = modelKey(filter.model);
    return statement.all(params).map(toRecord);
  }

  /**
   * Retention: looks at up to `batch` finished jobs that ended before `cutoff`, after `cursor`,
   * and removes each with its events, artifact and dependents' rows — never one a dependent
   * holds (webhooks still pending). Returns how many went and where to resume (null: done).
   */
  prune(cutoff: number, batch = 1000, cursor: PruneCursor | null = null): { removed: number; next: PruneCursor | null } {
    return this.atomically(() => {
      const rows = this.s.finished.all({ cutoff, afterAt: cursor?.finishedAt ?? -1, afterSeq: cursor?.seq ?? -1, limit: batch });
      let removed = 0;
      for (const { id } of rows) {
        if (this.dependents.some((d) => d.holds(id))) continue;
        for (const d of this.dependents) d.remove(id);
        this.s.deleteEvents.run(id);
        this.s.deleteArtifact.run(id);
        this.s.deleteJob.run(id);
        removed++;
      }
      const last = rows.at(-1);
      return { removed, next: rows.length === batch && last ? { finishedAt: last.finished_at, seq: last.seq } : null };
    });
  }

  /** Passthrough requests waiting for the worker. */
  waitingInteractive(): number {
    return this.s.waitingInteractive.get()!.n;
  }

  events(jobId: string, afterId = 0): JobEvent[] {
    return this.s.events.all(jobId, afterId).map(toEvent);
  }

  /**
   * A job's stored events after `afterId`, each with the job as it was right after it (an
   * event stored before events kept snapshots gets the job as it is now, in the event's state).
   */
  history(jobId: string, afterId = 0): { event: JobEvent; job: JobRecord }[] {
    const current = this.get(jobId);
    if (!current) return [];
    return this.s.events.all(jobId, afterId).map((e) => {
      const event = toEvent(e);
      const then = e.snapshot === null ? { status: event.type } : (JSON.parse(e.snapshot) as Snapshot);
      return { event, job: { ...current, ...then } };
    });
  }

  /** Jobs ahead of this one (any model), or null when it is not queued. */
  position(job: JobRecord): number | null {
    if (job.status !== "queued") return null;
    return this.s.position.get({ lane: job.lane, seq: job.seq })!.n;
  }

  /** Active work by model and state, for /status and metrics. */
  activeCounts(): { model: string; status: JobStatus; n: number; oldest: number }[] {
    return this.s.counts.all();
  }

  artifact(jobId: string): { contentType: string; body: Uint8Array } | null {
    const row = this.s.artifactOf.get(jobId);
    return row ? { contentType: row.content_type, body: row.body } : null;
  }

  /**
   * Start-up recovery: work that was on the target when foreman died goes back to the queue
   * (a failure counted, so a job that keeps killing the process ends up failed once
   * `givesUp(failures)` says so); passthrough requests are canceled, their callers are gone.
   */
  recover(givesUp: (failures: number) => boolean): { requeued: number; failed: number; canceled: number } {
    // one commit for all of them
    return this.atomically(() => {
      const result = { requeued: 0, failed: 0, canceled: 0 };
      for (const j of this.s.stranded.all()) {
        if (j.lane === INTERACTIVE) {
          this.transition(j.id, "canceled", { data: { reason: "foreman restarted; the caller of this passthrough request is gone" } });
          result.canceled++;
        } else if (givesUp(j.failures + 1)) {
          this.transition(j.id, "failed", { failure: true, error: { status: 500, message: `gave up after ${j.failures + 1} failed attempts; the last was interrupted by a foreman restart` } });
          result.failed++;
        } else {
          this.transition(j.id, "queued", { failure: true, data: { reason: "foreman restarted while the job was running" } });
          result.requeued++;
        }
      }
      return result;
    });
  }
}
