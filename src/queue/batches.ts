// OpenAI batches (ADR 0039): a batch is a parent over ordinary async jobs — each line of its input
// file one job carrying the batch's id and the line's custom_id — so the queue, the worker and the
// expiry run it as any other work. This module keeps the batch rows and reads its lines.
import type { Database } from "bun:sqlite";
import { isTerminal, JOB_STATES } from "../contract/states.ts";
import { newId } from "../store/ids.ts";
import type { JobError } from "./rows.ts";
import type { Usage } from "./usage-schema.ts";

export const BATCH_STATES = ["validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled"] as const;
export type BatchStatus = (typeof BATCH_STATES)[number];
/** Batch lines run after plain jobs: the lowest priority POST /jobs may ask (ADR 0039), and background work across groups (ADR 0040). */
export const BATCH_PRIORITY = -1000;
export const batchEnded = (s: BatchStatus): boolean => s === "failed" || s === "completed" || s === "expired" || s === "cancelled";

export interface LineError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface BatchUsage {
  input_tokens: number;
  output_tokens: number;
}

export interface BatchRecord {
  seq: number;
  id: string;
  endpoint: string;
  inputFileId: string;
  completionWindow: string;
  status: BatchStatus;
  metadata: Record<string, string> | null;
  errors: LineError[] | null;
  outputFileId: string | null;
  errorFileId: string | null;
  model: string | null;
  usage: BatchUsage | null;
  total: number;
  completed: number;
  failed: number;
  createdAt: number;
  expiresAt: number;
  inProgressAt: number | null;
  finalizingAt: number | null;
  completedAt: number | null;
  failedAt: number | null;
  expiredAt: number | null;
  cancellingAt: number | null;
  cancelledAt: number | null;
  /** Seconds the result files are kept after they are written (output_expires_after). */
  outputExpiresAfter: number | null;
}

interface BatchRow {
  seq: number;
  id: string;
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  metadata: string | null;
  errors: string | null;
  output_file_id: string | null;
  error_file_id: string | null;
  model: string | null;
  usage: string | null;
  total: number;
  completed: number;
  failed: number;
  created_at: number;
  expires_at: number;
  in_progress_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  output_expires_after: number | null;
}

const parse = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));

const toRecord = (r: BatchRow): BatchRecord => ({
  seq: r.seq,
  id: r.id,
  endpoint: r.endpoint,
  inputFileId: r.input_file_id,
  completionWindow: r.completion_window,
  status: r.status,
  metadata: parse(r.metadata),
  errors: parse(r.errors),
  outputFileId: r.output_file_id,
  errorFileId: r.error_file_id,
  model: r.model,
  usage: parse(r.usage),
  total: r.total,
  completed: r.completed,
  failed: r.failed,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  inProgressAt: r.in_progress_at,
  finalizingAt: r.finalizing_at,
  completedAt: r.completed_at,
  failedAt: r.failed_at,
  expiredAt: r.expired_at,
  cancellingAt: r.cancelling_at,
  cancelledAt: r.cancelled_at,
  outputExpiresAfter: r.output_expires_after,
});

/** The fields a change of a batch may set (the row's column names). */
export type BatchPatch = Partial<Pick<BatchRow, "status" | "errors" | "output_file_id" | "error_file_id" | "model" | "usage" | "total" | "completed" | "failed" | "in_progress_at" | "finalizing_at" | "completed_at" | "failed_at" | "expired_at" | "cancelling_at" | "cancelled_at">>;

/** One line of a batch as its job ended, for the result files. */
export interface BatchLine {
  jobId: string;
  customId: string;
  status: string;
  error: JobError | null;
  usage: Usage | null;
}

/** The lines' states, counted. */
export interface LineCounts {
  total: number;
  done: number;
  failed: number;
  canceled: number;
  unfinished: number;
}

/**
 * A batch's lines by state, and those of the batches not ended: counted on every GET of a batch
 * and of /status, from the jobs_batch_status index alone (ADR 0044).
 */
export const BATCH_LINES_SQL = "SELECT status, count(*) AS n FROM jobs WHERE batch_id = ? GROUP BY status";
export const OPEN_BATCH_LINES_SQL = "SELECT j.status, count(*) AS n FROM batches b JOIN jobs j ON j.batch_id = b.id WHERE b.status IN ('validating', 'in_progress', 'finalizing', 'cancelling') GROUP BY j.status";

/**
 * Whether a line of the batch is still to end: asked at every line's end, so it seeks in the
 * jobs_batch_status index (one seek per unfinished state) rather than counting every line — a
 * count per ending made a 50,000-line batch quadratic.
 */
export const UNFINISHED_LINE_SQL = `SELECT 1 AS found FROM jobs WHERE batch_id = ? AND status IN (${JOB_STATES.filter((s) => !isTerminal(s))
  .map((s) => `'${s}'`)
  .join(", ")}) LIMIT 1`;

/** Rows another module keeps per batch (the webhook deliveries of its end): they go with the batch row. */
export interface BatchDependents {
  /** Whether the batch must stay for now (a delivery still being tried). */
  holds(batchId: string): boolean;
  /** Removes the module's rows for the batch, inside the transaction that removes it. */
  remove(batchId: string): void;
}

export class Batches {
  private readonly endHooks: ((batch: BatchRecord) => void)[] = [];
  private readonly dependents: BatchDependents[] = [];

  constructor(private readonly db: Database) {}

  create(input: { endpoint: string; inputFileId: string; completionWindow: string; windowMs: number; metadata: Record<string, string> | null; outputExpiresAfter?: number | null }, now = Date.now()): BatchRecord {
    const row = this.db
      .query<BatchRow, [string, string, string, string, string | null, number, number, number | null]>(
        "INSERT INTO batches (id, endpoint, input_file_id, completion_window, status, metadata, created_at, expires_at, output_expires_after) VALUES (?, ?, ?, ?, 'validating', ?, ?, ?, ?) RETURNING *",
      )
      .get(`${input.endpoint === "/v1/messages" ? "msgbatch" : "batch"}_${newId(now)}`, input.endpoint, input.inputFileId, input.completionWindow, input.metadata === null ? null : JSON.stringify(input.metadata), now, now + input.windowMs, input.outputExpiresAfter ?? null)!;
    return toRecord(row);
  }

  get(id: string): BatchRecord | null {
    const row = this.db.query<BatchRow, [string]>("SELECT * FROM batches WHERE id = ?").get(id);
    return row ? toRecord(row) : null;
  }

  /**
   * Newest first: after the batch `after` (an id of the previous page), or the page just before
   * the batch `before` (newer ones). OpenAI's batches and Anthropic's message batches (endpoint
   * /v1/messages) are listed apart (`messages`).
   */
  list(page: { after?: string; before?: string; limit: number; messages?: boolean }): { data: BatchRecord[]; hasMore: boolean } {
    const kind = page.messages ? "endpoint = '/v1/messages'" : "endpoint != '/v1/messages'";
    if (page.before !== undefined) {
      const to = this.get(page.before)?.seq ?? null;
      const rows = this.db.query<BatchRow, [number | null, number]>(`SELECT * FROM batches WHERE ${kind} AND seq > coalesce(?, -1) ORDER BY seq ASC LIMIT ?`).all(to, page.limit + 1);
      return { data: rows.slice(0, page.limit).reverse().map(toRecord), hasMore: rows.length > page.limit };
    }
    const from = page.after === undefined ? null : (this.get(page.after)?.seq ?? null);
    const rows = this.db.query<BatchRow, [number | null, number | null, number]>(`SELECT * FROM batches WHERE ${kind} AND (? IS NULL OR seq < ?) ORDER BY seq DESC LIMIT ?`).all(from, from, page.limit + 1);
    return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
  }

  /** Registers rows another module keeps per batch, so they go with the batch row. */
  addDependents(dependents: BatchDependents): void {
    this.dependents.push(dependents);
  }

  /** Removes an ended batch's row and its dependents' rows, held or not (the caller commits; its lines stay ordinary jobs). */
  delete(id: string): void {
    for (const d of this.dependents) d.remove(id);
    this.db.query("DELETE FROM batches WHERE id = ?").run(id);
  }

  /** Batches not yet ended: what a start resumes. */
  open(): BatchRecord[] {
    return this.db.query<BatchRow, []>("SELECT * FROM batches WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling') ORDER BY seq").all().map(toRecord);
  }

  update(id: string, patch: BatchPatch): BatchRecord {
    const keys = Object.keys(patch) as (keyof BatchPatch)[];
    const row = this.db
      .query<BatchRow, (string | number | null)[]>(`UPDATE batches SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = ? RETURNING *`)
      .get(...keys.map((k) => patch[k] ?? null), id)!;
    const batch = toRecord(row);
    if (patch.status !== undefined && batchEnded(batch.status)) for (const hook of this.endHooks) hook(batch);
    return batch;
  }

  /** Hears each batch's end inside the transaction that writes it (the webhook outbox adds its deliveries there). */
  onEnded(hook: (batch: BatchRecord) => void): void {
    this.endHooks.push(hook);
  }

  /** Marks a just-enqueued job as the batch's line `customId` (inside the enqueueing transaction). */
  attach(jobId: string, batchId: string, customId: string): void {
    this.db.query("UPDATE jobs SET batch_id = ?, custom_id = ? WHERE id = ?").run(batchId, customId, jobId);
  }

  /** Whether a job is a line of a batch not yet ended: retention keeps it, its result is still to be written. */
  holdsLine(jobId: string): boolean {
    return (
      this.db
        .query<{ n: number }, [string]>("SELECT count(*) AS n FROM jobs j JOIN batches b ON b.id = j.batch_id WHERE j.id = ? AND b.status IN ('validating', 'in_progress', 'finalizing', 'cancelling')")
        .get(jobId)!.n > 0
    );
  }

  /**
   * Removes the ended batches none of whose files is left (input, output, error): a batch is kept
   * as long as one of its files, and while a dependent holds it (a webhook still being tried), as
   * a job is. Their dependents' rows go with them (the caller commits); their lines go with job
   * retention.
   */
  removeWithoutFiles(): number {
    const ids = this.db
      .query<{ id: string }, []>(
        `SELECT id FROM batches WHERE status IN ('failed', 'completed', 'expired', 'cancelled')
           AND NOT EXISTS (SELECT 1 FROM files f WHERE f.id IN (batches.input_file_id, batches.output_file_id, batches.error_file_id))`,
      )
      .all()
      .map((r) => r.id)
      .filter((id) => !this.dependents.some((d) => d.holds(id)));
    for (const id of ids) this.delete(id);
    return ids.length;
  }

  /** Batches by status, and the lines of the batches not ended by their job state: what /status and /metrics show. */
  summary(): { byStatus: Record<BatchStatus, number>; lines: Record<string, number> } {
    const byStatus = Object.fromEntries(BATCH_STATES.map((s) => [s, 0])) as Record<BatchStatus, number>;
    for (const { status, n } of this.db.query<{ status: BatchStatus; n: number }, []>("SELECT status, count(*) AS n FROM batches GROUP BY status").all()) byStatus[status] = n;
    const lines: Record<string, number> = {};
    for (const { status, n } of this.db
      .query<{ status: string; n: number }, []>(OPEN_BATCH_LINES_SQL)
      .all())
      lines[status] = n;
    return { byStatus, lines };
  }

  /** The batch a job is a line of, or null. */
  batchOf(jobId: string): string | null {
    return this.db.query<{ batch_id: string | null }, [string]>("SELECT batch_id FROM jobs WHERE id = ?").get(jobId)?.batch_id ?? null;
  }

  /** Whether any line of the batch has yet to end (a seek, whatever the batch's size). */
  hasUnfinished(batchId: string): boolean {
    return this.db.query<{ found: number }, [string]>(UNFINISHED_LINE_SQL).get(batchId) !== null;
  }

  counts(batchId: string): LineCounts {
    const c: LineCounts = { total: 0, done: 0, failed: 0, canceled: 0, unfinished: 0 };
    for (const { status, n } of this.db.query<{ status: string; n: number }, [string]>(BATCH_LINES_SQL).all(batchId)) {
      c.total += n;
      if (status === "done" || status === "failed" || status === "canceled") c[status] += n;
      else c.unfinished += n;
    }
    return c;
  }

  /** Lines in the given state (queued ones to cancel, running ones to abort). */
  lineIds(batchId: string, statuses: readonly string[]): string[] {
    return this.db
      .query<{ id: string }, string[]>(`SELECT id FROM jobs WHERE batch_id = ? AND status IN (${statuses.map(() => "?").join(",")}) ORDER BY seq`)
      .all(batchId, ...statuses)
      .map((r) => r.id);
  }

  /** Up to `limit` lines of the batch in file order after the line `afterSeq` (0: from the first): a page of its results. */
  linesAfter(batchId: string, afterSeq: number, limit: number): (BatchLine & { seq: number })[] {
    return this.db
      .query<{ seq: number; id: string; custom_id: string; status: string; error: string | null; usage: string | null }, [string, number, number]>(
        "SELECT seq, id, custom_id, status, error, usage FROM jobs WHERE batch_id = ? AND seq > ? ORDER BY seq LIMIT ?",
      )
      .all(batchId, afterSeq, limit)
      .map((r) => ({ seq: r.seq, jobId: r.id, customId: r.custom_id, status: r.status, error: parse(r.error), usage: parse(r.usage) }));
  }
}
