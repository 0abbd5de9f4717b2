// Every SQL statement the queue runs, prepared once, with the parameter and row types each
// takes (split from the queue, issue 21).
import type { Database } from "bun:sqlite";
import type { JobStatus } from "../contract/states.ts";
import type { BacklogRow, EventRow, HeadRow, Row } from "./rows.ts";

/**
 * The not_before of a batch's line while its batch is queued (ADR 0041): a time no clock
 * reaches, so the line is out of the scheduler's indexes like a back-off, never released by
 * one, and only its batch's last queueing commit makes it runnable (Queue.releaseHeld).
 */
export const HELD = Number.MAX_SAFE_INTEGER;

export type Params = Record<string, string | number | null>;
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
  not_before, preemptible, preemptions, run_after, start_by, max_run_ms, usage, client, tag, batch_id, custom_id`;

/**
 * Every statement the queue runs, prepared once (bun:sqlite caches by SQL text). Writes do not
 * use RETURNING: on the jobs table it costs several times the write itself (measured: an insert
 * 28 µs with it, 7 µs without), so ids come from lastInsertRowid and rows from a read by key.
 */
export function statements(db: Database) {
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
      `SELECT ${COLUMNS_BACKLOG} FROM jobs INDEXED BY jobs_not_before WHERE not_before IS NOT NULL AND not_before < ${HELD} AND status = 'queued' ORDER BY not_before, seq LIMIT ? OFFSET ?`,
    ),
    // the last finished jobs, newest first: what the estimates learn durations from
    finishedRecent: db.query<{ model_key: string; endpoint: string; timings: string | null; progress_tokens: number }, [number]>(
      `SELECT model_key, endpoint, timings, progress_tokens FROM jobs INDEXED BY jobs_finished WHERE finished_at IS NOT NULL AND status = 'done' ORDER BY finished_at DESC LIMIT ?`,
    ),
    // back-off ends: the jobs whose time has come enter the scheduler's indexes again
    release: db.query<never, [number]>(`UPDATE jobs SET not_before = NULL WHERE not_before <= ?`),
    // a held batch line is released by its batch, not by time (ADR 0041)
    nextRelease: db.query<{ at: number | null }, []>(`SELECT MIN(not_before) AS at FROM jobs WHERE not_before IS NOT NULL AND not_before < ${HELD}`),
    releaseHeld: db.query<never, [string]>(`UPDATE jobs SET not_before = NULL WHERE batch_id = ? AND not_before = ${HELD}`),
    held: db.query<{ id: string }, [string]>(`SELECT id FROM jobs WHERE batch_id = ? AND not_before = ${HELD}`),
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
    // GET /jobs?batch=: a batch's lines, by the jobs_batch index, optionally by status
    batchList: {
      all: list("AND batch_id = $batch"),
      status: list("AND batch_id = $batch AND status = $status"),
      model: list("AND batch_id = $batch AND model_key = $model"),
      both: list("AND batch_id = $batch AND status = $status AND model_key = $model"),
    },
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

export type Statements = ReturnType<typeof statements>;
