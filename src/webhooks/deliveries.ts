// The webhook tables: one delivery row per (event, webhook), and every attempt at sending it.
// All webhook SQL lives here; the outbox writes rows inside job transitions, the dispatcher
// takes due rows destination by destination and records attempts, retention removes a job's
// rows with the job, and a batch's (keyed by the batch id) with the batch.
import type { Database } from "bun:sqlite";
import type { JobDependents } from "../queue/queue.ts";
import { newId } from "../store/ids.ts";

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface DueDelivery {
  id: number;
  /** The webhook-id header: msg_ + a ULID, the same on every attempt. */
  webhook_id: string;
  job_id: string;
  event_type: string;
  url: string;
  payload: string;
  attempts: number;
  created_at: number;
}

export interface DeliveryRow {
  id: number;
  webhook_id: string;
  event_type: string;
  url: string;
  status: DeliveryStatus;
  next_attempt_at: number;
  delivered_at: number | null;
}

/** A delivery as GET /jobs/{id}/deliveries shows it. */
export interface DeliveryView {
  id: number;
  webhook_id: string;
  event: string;
  url: string;
  status: DeliveryStatus;
  attempts: { at: string; status: number | null; error: string | null; duration_ms: number }[];
  next_attempt_at: string | null;
  delivered_at: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export interface AttemptRow {
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/** Deliveries to one origin (scheme, host, port) share that destination's in-flight cap. */
function destinationOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

const DUE_COLUMNS = "d.id, d.webhook_id, d.job_id, d.event_type, d.url, d.payload, d.attempts, d.created_at";

function statements(db: Database) {
  return {
    // A job's deliveries never fall due before the one ahead of them (kept here and on every
    // retry): while a job's first delivery backs off, the rest are not due, so the walk over a
    // dead receiver's due deliveries meets the heads of its jobs, not their backlog.
    insert: db.query<never, [string, number, string, string, string, string, string, number]>(
      `INSERT INTO webhook_deliveries (webhook_id, event_id, job_id, event_type, url, destination, payload, status, next_attempt_at, created_at)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', MAX(?8, COALESCE((SELECT MAX(next_attempt_at) FROM webhook_deliveries WHERE job_id = ?3 AND status = 'pending'), ?8)), ?8)`,
    ),
    holdBack: db.query<never, [number, number]>(
      `UPDATE webhook_deliveries SET next_attempt_at = ?1
       WHERE status = 'pending' AND job_id = (SELECT job_id FROM webhook_deliveries WHERE id = ?2) AND id > ?2 AND next_attempt_at < ?1`,
    ),
    // loose index scan: one seek per destination with pending deliveries (a handful), however
    // many deliveries wait; with each, when its earliest one falls due
    destinations: db.query<{ destination: string; due: number }, []>(`WITH RECURSIVE t(destination) AS (
         SELECT (SELECT destination FROM webhook_deliveries WHERE status = 'pending' AND destination IS NOT NULL ORDER BY destination LIMIT 1)
         UNION ALL
         SELECT (SELECT destination FROM webhook_deliveries WHERE status = 'pending' AND destination > t.destination ORDER BY destination LIMIT 1) FROM t WHERE t.destination IS NOT NULL)
       SELECT destination, (SELECT MIN(next_attempt_at) FROM webhook_deliveries WHERE status = 'pending' AND destination = t.destination) AS due FROM t WHERE destination IS NOT NULL`),
    // one destination's due deliveries, oldest first; only the head of each job's pending
    // deliveries (in order per job)
    due: db.query<DueDelivery, [string, number, number]>(`SELECT ${DUE_COLUMNS} FROM webhook_deliveries d INDEXED BY webhook_deliveries_destination
       WHERE d.status = 'pending' AND d.destination = ? AND d.next_attempt_at <= ?
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.job_id = d.job_id AND e.status = 'pending' AND e.id < d.id)
       ORDER BY d.next_attempt_at, d.id LIMIT ?`),
    // deliveries due now but not started wait for a send to finish, which wakes the
    // dispatcher; so the timer is only for the next one that falls due later
    nextDue: db.query<{ at: number | null }, [number]>(`SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at > ?`),
    attempt: db.query<never, [number, number, number | null, string | null, number]>(`INSERT INTO delivery_attempts (delivery_id, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?)`),
    delivered: db.query<never, [number, number | null, number]>(`UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_status = ?, last_error = NULL WHERE id = ?`),
    retry: db.query<never, [number, number | null, string, number]>(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ?`),
    failed: db.query<never, [number | null, string, number]>(`UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_status = ?, last_error = ? WHERE id = ?`),
    forJob: db.query<DeliveryRow, [string]>(`SELECT id, webhook_id, event_type, url, status, next_attempt_at, delivered_at FROM webhook_deliveries WHERE job_id = ? ORDER BY id`),
    attemptsForJob: db.query<AttemptRow & { delivery_id: number }, [string]>(
      `SELECT delivery_id, at, status, error, duration_ms FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE job_id = ?) ORDER BY delivery_id, id`,
    ),
    pending: db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending'`),
    pendingFor: db.query<{ one: number }, [string]>(`SELECT 1 AS one FROM webhook_deliveries WHERE job_id = ? AND status = 'pending' LIMIT 1`),
    deleteAttempts: db.query<never, [string]>(`DELETE FROM delivery_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE job_id = ?)`),
    deleteDeliveries: db.query<never, [string]>(`DELETE FROM webhook_deliveries WHERE job_id = ?`),
  };
}

export class Deliveries implements JobDependents {
  private readonly s: ReturnType<typeof statements>;

  constructor(readonly db: Database) {
    this.s = statements(db);
  }

  add(eventId: number, jobId: string, eventType: string, url: string, payload: string, at: number): void {
    this.s.insert.run(`msg_${newId()}`, eventId, jobId, eventType, url, destinationOf(url), payload, at);
  }

  /** Every destination with pending deliveries, and when its earliest one falls due. */
  destinations(): { destination: string; due: number }[] {
    return this.s.destinations.all();
  }

  /** Up to `limit` deliveries to `destination` that are due and first in line for their job. */
  due(destination: string, now: number, limit: number): DueDelivery[] {
    return this.s.due.all(destination, now, limit);
  }

  /** When the next pending delivery falls due after `now`, or null when none does. */
  nextDueAfter(now: number): number | null {
    return this.s.nextDue.get(now)!.at;
  }

  /** Records one attempt and its consequence, atomically. `retryAt` null: the delivery is given up. */
  record(id: number, attempt: { at: number; status: number | null; error: string | null; durationMs: number }, retryAt: number | null): void {
    this.db.transaction(() => {
      this.s.attempt.run(id, attempt.at, attempt.status, attempt.error, attempt.durationMs);
      if (attempt.error === null) this.s.delivered.run(attempt.at, attempt.status, id);
      else if (retryAt === null) this.s.failed.run(attempt.status, attempt.error, id);
      else {
        this.s.retry.run(retryAt, attempt.status, attempt.error, id);
        this.s.holdBack.run(retryAt, id);
      }
    })();
  }

  /** Deliveries waiting to be sent or retried (the backlog). */
  pendingCount(): number {
    return this.s.pending.get()!.n;
  }

  /** Every delivery of a job with its attempts, for GET /jobs/{id}/deliveries: two reads, however many there are. */
  view(jobId: string): DeliveryView[] {
    const attempts = new Map<number, DeliveryView["attempts"]>();
    for (const a of this.s.attemptsForJob.all(jobId)) {
      const list = attempts.get(a.delivery_id) ?? [];
      list.push({ at: iso(a.at)!, status: a.status, error: a.error, duration_ms: Math.round(a.duration_ms * 10) / 10 });
      attempts.set(a.delivery_id, list);
    }
    return this.s.forJob.all(jobId).map((d) => ({
      id: d.id,
      webhook_id: d.webhook_id,
      event: d.event_type,
      url: d.url,
      status: d.status,
      attempts: attempts.get(d.id) ?? [],
      next_attempt_at: d.status === "pending" ? iso(d.next_attempt_at) : null,
      delivered_at: iso(d.delivered_at),
    }));
  }

  holds(jobId: string): boolean {
    return this.s.pendingFor.get(jobId) !== null;
  }

  remove(jobId: string): void {
    this.s.deleteAttempts.run(jobId);
    this.s.deleteDeliveries.run(jobId);
  }
}
