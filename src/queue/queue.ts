// The durable queue: the only module that writes SQL for jobs. Enqueue is one committed
// transaction; every state change goes through transition(), which checks the state table,
// updates the job and appends its event — and whatever the outbox hooks add — atomically.
import type { Database, Statement } from "bun:sqlite";
import { newId } from "../store/ids.ts";
import { checkTransition, type JobStatus } from "../contract/states.ts";
import { modelKey } from "../target/model-name.ts";
import type { Candidate, ModelHead, QueueHeads } from "../engine/scheduler.ts";

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
  priority: number;
  status: JobStatus;
  /** The target request body (JSON text); null for passthrough, whose caller holds it. */
  request: string | null;
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
}

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
}

export interface TransitionPatch {
  error?: JobError;
  artifact?: { contentType: string; body: Uint8Array | string };
  /** A dispatch to the target (counted on entering loading/working from queued). */
  attempt?: boolean;
  /** A failed attempt that counts against the retry bound. */
  failure?: boolean;
  timings?: Record<string, number>;
  /** Final progress, written with the state change instead of in a separate commit. */
  progress?: { chunks: number; tokens: number };
  /** Extra detail stored with the event (e.g. why a job went back to the queue). */
  data?: Record<string, unknown>;
}

/** Runs inside the transition's transaction: the outbox writes its rows here. */
export type EventHook = (job: JobRecord, event: JobEvent) => void;

interface Row {
  seq: number;
  id: string;
  lane: number;
  endpoint: string;
  model: string;
  model_key: string;
  priority: number;
  status: string;
  request: string | null;
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
    priority: r.priority,
    status: r.status as JobStatus,
    request: r.request,
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
  };
}

interface HeadRow {
  id: string;
  seq: number;
  model_key: string;
  priority: number;
  created_at: number;
}
const toCandidate = (r: HeadRow): Candidate => ({ id: r.id, seq: r.seq, modelKey: r.model_key, priority: r.priority, queuedAt: r.created_at });

export class JobNotFound extends Error {
  constructor(readonly id: string) {
    super(`job ${id} not found`);
  }
}

export class Queue {
  private readonly hooks: EventHook[] = [];
  /** Queued rows right now, kept in step with every commit (so no COUNT on the hot path). */
  private queuedNow: number;
  private readonly s: Record<string, Statement>;

  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
  ) {
    const q = (sql: string) => db.query(sql);
    this.s = {
      insert: q(`INSERT INTO jobs (id, lane, endpoint, model, model_key, priority, status, request, metadata, webhook, idempotency_key, request_hash, created_at, queued_at, updated_at)
                 VALUES ($id, $lane, $endpoint, $model, $modelKey, $priority, 'queued', $request, $metadata, $webhook, $idem, $hash, $now, $now, $now)`),
      event: q(`INSERT INTO job_events (job_id, type, at, data) VALUES (?, ?, ?, ?)`),
      get: q(`SELECT * FROM jobs WHERE id = ?`),
      state: q(`SELECT status, started_at, timings FROM jobs WHERE id = ?`),
      byKey: q(`SELECT * FROM jobs WHERE idempotency_key = ?`),
      waitingInteractive: q(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND lane = 0`),
      interactive: q(`SELECT id, seq, model_key, priority, created_at FROM jobs WHERE status = 'queued' AND lane = 0 ORDER BY seq LIMIT 1`),
      // loose index scan: one seek per distinct queued model instead of reading every row
      models: q(`WITH RECURSIVE m(k) AS (
                   SELECT (SELECT model_key FROM jobs WHERE status = 'queued' AND lane = 1 ORDER BY model_key LIMIT 1)
                   UNION ALL
                   SELECT (SELECT model_key FROM jobs WHERE status = 'queued' AND lane = 1 AND model_key > m.k ORDER BY model_key LIMIT 1) FROM m WHERE m.k IS NOT NULL)
                 SELECT k FROM m WHERE k IS NOT NULL`),
      best: q(`SELECT id, seq, model_key, priority, created_at FROM jobs INDEXED BY jobs_queued_best
               WHERE status = 'queued' AND lane = 1 AND model_key = ? ORDER BY priority DESC, seq LIMIT 1`),
      oldest: q(`SELECT created_at FROM jobs INDEXED BY jobs_queued_age
                 WHERE status = 'queued' AND lane = 1 AND model_key = ? ORDER BY seq LIMIT 1`),
      progress: q(`UPDATE jobs SET progress_chunks = ?, progress_tokens = ?, updated_at = ? WHERE id = ?`),
      artifact: q(`INSERT OR REPLACE INTO artifacts (job_id, content_type, body, created_at) VALUES (?, ?, ?, ?)`),
      events: q(`SELECT id, job_id, type, at, data FROM job_events WHERE job_id = ? AND id > ? ORDER BY id`),
      position: q(`SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued' AND (lane < $lane OR (lane = $lane AND seq < $seq))`),
      counts: q(`SELECT model_key AS model, status, COUNT(*) AS n, MIN(created_at) AS oldest FROM jobs WHERE status IN ('queued', 'loading', 'working') GROUP BY model_key, status`),
    };
    this.queuedNow = (db.query("SELECT COUNT(*) AS n FROM jobs WHERE status = 'queued'").get() as { n: number }).n;
  }

  /** Registers a hook that runs inside every transition's transaction (the outbox). */
  onEvent(hook: EventHook): void {
    this.hooks.push(hook);
  }

  /** How many jobs are queued (all lanes). */
  get queuedCount(): number {
    return this.queuedNow;
  }

  enqueue(input: EnqueueInput): JobRecord {
    const job = this.db.transaction(() => {
      const now = this.clock();
      const row: Row = {
        seq: 0,
        id: newId(now),
        lane: input.lane,
        endpoint: input.endpoint,
        model: input.model,
        model_key: modelKey(input.model),
        priority: input.priority ?? 0,
        status: "queued",
        request: input.request ?? null,
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
      };
      const { lastInsertRowid } = this.s.insert!.run({
        id: row.id,
        lane: row.lane,
        endpoint: row.endpoint,
        model: row.model,
        modelKey: row.model_key,
        priority: row.priority,
        request: row.request,
        metadata: row.metadata,
        webhook: row.webhook,
        idem: row.idempotency_key,
        hash: row.request_hash,
        now,
      });
      row.seq = Number(lastInsertRowid);
      const job = toRecord(row);
      this.appendEvent(job, "queued", now, null);
      return job;
    })();
    this.queuedNow++;
    return job;
  }

  get(id: string): JobRecord | null {
    const row = this.s.get!.get(id) as Row | null;
    return row ? toRecord(row) : null;
  }

  byIdempotencyKey(key: string): JobRecord | null {
    const row = this.s.byKey!.get(key) as Row | null;
    return row ? toRecord(row) : null;
  }

  /** Moves a job to another state, atomically with its event (and outbox rows). */
  transition(id: string, to: JobStatus, patch: TransitionPatch = {}): JobRecord {
    let from: JobStatus = to;
    const job = this.db.transaction(() => {
      const current = this.s.state!.get(id) as { status: JobStatus; started_at: number | null; timings: string | null } | null;
      if (!current) throw new JobNotFound(id);
      checkTransition(current.status, to);
      from = current.status;
      const now = this.clock();
      const sets: string[] = ["status = $to", "updated_at = $now"];
      const params: Record<string, string | number | null | Uint8Array> = { id, to, now };
      if (to === "queued") sets.push("queued_at = $now");
      if (patch.attempt) sets.push("attempts = attempts + 1");
      if (patch.failure) sets.push("failures = failures + 1");
      if ((to === "loading" || to === "working") && current.started_at === null) sets.push("started_at = $now");
      if (to === "done" || to === "failed" || to === "canceled") sets.push("finished_at = $now");
      if (patch.error) {
        sets.push("error = $error");
        params.error = JSON.stringify(patch.error);
      }
      if (patch.progress) {
        sets.push("progress_chunks = $chunks", "progress_tokens = $tokens");
        params.chunks = patch.progress.chunks;
        params.tokens = patch.progress.tokens;
      }
      if (patch.timings) {
        sets.push("timings = $timings");
        params.timings = JSON.stringify({ ...(parse(current.timings) as Record<string, number> | null), ...patch.timings });
      }
      const row = this.db.query(`UPDATE jobs SET ${sets.join(", ")} WHERE id = $id RETURNING *`).get(params) as Row;
      if (patch.artifact) {
        const { contentType, body } = patch.artifact;
        this.s.artifact!.run(id, contentType, typeof body === "string" ? new TextEncoder().encode(body) : body, now);
      }
      const job = toRecord(row);
      this.appendEvent(job, to, now, patch.data ?? (patch.error ? { error: patch.error } : null));
      return job;
    })();
    if (from === "queued") this.queuedNow--;
    if (to === "queued") this.queuedNow++;
    return job;
  }

  private appendEvent(job: JobRecord, type: JobStatus, at: number, data: Record<string, unknown> | null): void {
    const id = Number(this.s.event!.run(job.id, type, at, data === null ? null : JSON.stringify(data)).lastInsertRowid);
    const event: JobEvent = { id, jobId: job.id, type, at, data };
    for (const hook of this.hooks) hook(job, event);
  }

  /** Throttled by the caller; no event, no outbox. */
  progress(id: string, chunks: number, tokens: number): void {
    this.s.progress!.run(chunks, tokens, this.clock(), id);
  }

  /** The heads the scheduler chooses from: a handful of index seeks, whatever the queue length. */
  heads(): QueueHeads {
    const interactive = this.s.interactive!.get() as HeadRow | null;
    const models: ModelHead[] = [];
    for (const { k } of this.s.models!.all() as { k: string }[]) {
      const best = this.s.best!.get(k) as HeadRow;
      const oldest = this.s.oldest!.get(k) as { created_at: number };
      models.push({ modelKey: k, best: toCandidate(best), oldestQueuedAt: oldest.created_at });
    }
    return { interactive: interactive ? toCandidate(interactive) : null, models };
  }

  /**
   * Async jobs newest first, optionally by status and model; `before` is the seq to continue
   * after (the cursor). Passthrough records are not listed: their caller is the only reader.
   */
  list(filter: { status?: JobStatus; model?: string; before?: number; limit: number }): JobRecord[] {
    const where = ["lane = 1"];
    const params: Record<string, string | number> = { limit: filter.limit };
    if (filter.status) {
      where.push("status = $status");
      params.status = filter.status;
    }
    if (filter.model) {
      where.push("model_key = $model");
      params.model = modelKey(filter.model);
    }
    if (filter.before !== undefined) {
      where.push("seq < $before");
      params.before = filter.before;
    }
    const rows = this.db.query(`SELECT * FROM jobs WHERE ${where.join(" AND ")} ORDER BY seq DESC LIMIT $limit`).all(params) as Row[];
    return rows.map(toRecord);
  }

  /**
   * Retention: removes up to `batch` finished jobs that ended before `cutoff`, with their
   * events, artifact, deliveries and attempts — never one whose webhooks are still pending.
   * Returns how many jobs went.
   */
  prune(cutoff: number, batch = 1000): number {
    return this.db.transaction(() => {
      const ids = (
        this.db
          .query(
            `SELECT id FROM jobs INDEXED BY jobs_finished WHERE finished_at < ? AND status IN ('done', 'failed', 'canceled')
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.job_id = jobs.id AND d.status = 'pending') LIMIT ?`,
          )
          .all(cutoff, batch) as { id: string }[]
      ).map((r) => r.id);
      if (ids.length === 0) return 0;
      const list = `(${ids.map(() => "?").join(",")})`;
      this.db.query(`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE job_id IN ${list})`).run(...ids);
      for (const table of ["webhook_deliveries", "job_events", "artifacts"]) this.db.query(`DELETE FROM ${table} WHERE job_id IN ${list}`).run(...ids);
      this.db.query(`DELETE FROM jobs WHERE id IN ${list}`).run(...ids);
      return ids.length;
    })();
  }

  /** Passthrough requests waiting for the worker. */
  waitingInteractive(): number {
    return (this.s.waitingInteractive!.get() as { n: number }).n;
  }

  events(jobId: string, afterId = 0): JobEvent[] {
    return (this.s.events!.all(jobId, afterId) as { id: number; job_id: string; type: string; at: number; data: string | null }[]).map((e) => ({
      id: e.id,
      jobId: e.job_id,
      type: e.type as JobStatus,
      at: e.at,
      data: parse(e.data) as Record<string, unknown> | null,
    }));
  }

  /** Jobs ahead of this one (any model), or null when it is not queued. */
  position(job: JobRecord): number | null {
    if (job.status !== "queued") return null;
    return (this.s.position!.get({ lane: job.lane, seq: job.seq }) as { n: number }).n;
  }

  /** Active work by model and state, for /status and metrics. */
  activeCounts(): { model: string; status: JobStatus; n: number; oldest: number }[] {
    return this.s.counts!.all() as { model: string; status: JobStatus; n: number; oldest: number }[];
  }

  artifact(jobId: string): { contentType: string; body: Uint8Array } | null {
    const row = this.db.query("SELECT content_type, body FROM artifacts WHERE job_id = ?").get(jobId) as { content_type: string; body: Uint8Array } | null;
    return row ? { contentType: row.content_type, body: row.body } : null;
  }

  /**
   * Start-up recovery: work that was on the target when foreman died goes back to the queue
   * (a failure counted, so a job that keeps killing the process ends up failed); passthrough
   * requests are canceled, their callers are gone.
   */
  recover(maxFailures: number): { requeued: number; failed: number; canceled: number } {
    const result = { requeued: 0, failed: 0, canceled: 0 };
    const stranded = this.db.query(`SELECT id, lane, status, failures FROM jobs WHERE status IN ('queued', 'loading', 'working') AND (lane = 0 OR status != 'queued')`).all() as {
      id: string;
      lane: number;
      status: JobStatus;
      failures: number;
    }[];
    for (const j of stranded) {
      if (j.lane === INTERACTIVE) {
        this.transition(j.id, "canceled", { data: { reason: "foreman restarted; the caller of this passthrough request is gone" } });
        result.canceled++;
      } else if (j.failures + 1 >= maxFailures) {
        this.transition(j.id, "failed", { failure: true, error: { status: 500, message: `gave up after ${j.failures + 1} failed attempts; the last was interrupted by a foreman restart` } });
        result.failed++;
      } else {
        this.transition(j.id, "queued", { failure: true, data: { reason: "foreman restarted while the job was running" } });
        result.requeued++;
      }
    }
    return result;
  }
}
