// The webhook tables: one delivery row per (event, webhook), and every attempt at sending it.
// All webhook SQL lives here; the outbox writes rows inside job transitions, the dispatcher
// takes due rows and records attempts, retention removes a job's rows with the job.
import type { Database } from "bun:sqlite";
import type { JobDependents } from "../queue/queue.ts";

export type DeliveryStatus = "pending" | "delivered" | "failed";

export interface DueDelivery {
  id: number;
  job_id: string;
  event_type: string;
  url: string;
  payload: string;
  attempts: number;
  created_at: number;
}

export interface DeliveryRow {
  id: number;
  event_type: string;
  url: string;
  status: DeliveryStatus;
  next_attempt_at: number;
  delivered_at: number | null;
}

export interface AttemptRow {
  at: number;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

function statements(db: Database) {
  return {
    insert: db.query<never, [number, string, string, string, string, number, number]>(
      `INSERT INTO webhook_deliveries (event_id, job_id, event_type, url, payload, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)`,
    ),
    // oldest due first; only the head of each job's pending deliveries (in order per job)
    due: db.query<DueDelivery, [number, number]>(`SELECT d.id, d.job_id, d.event_type, d.url, d.payload, d.attempts, d.created_at FROM webhook_deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= ?
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.job_id = d.job_id AND e.status = 'pending' AND e.id < d.id)
       ORDER BY d.next_attempt_at, d.id LIMIT ?`),
    nextDue: db.query<{ at: number | null }, []>(`SELECT MIN(next_attempt_at) AS at FROM webhook_deliveries WHERE status = 'pending'`),
    attempt: db.query<never, [number, number, number | null, string | null, number]>(`INSERT INTO delivery_attempts (delivery_id, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?)`),
    delivered: db.query<never, [number, number | null, number]>(`UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, last_status = ?, last_error = NULL WHERE id = ?`),
    retry: db.query<never, [number, number | null, string, number]>(`UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ?`),
    failed: db.query<never, [number | null, string, number]>(`UPDATE webhook_deliveries SET status = 'failed', attempts = attempts + 1, last_status = ?, last_error = ? WHERE id = ?`),
    forJob: db.query<DeliveryRow, [string]>(`SELECT id, event_type, url, status, next_attempt_at, delivered_at FROM webhook_deliveries WHERE job_id = ? ORDER BY id`),
    attemptsOf: db.query<AttemptRow, [number]>(`SELECT at, status, error, duration_ms FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`),
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
    this.s.insert.run(eventId, jobId, eventType, url, payload, at, at);
  }

  due(now: number, limit: number): DueDelivery[] {
    return this.s.due.all(now, limit);
  }

  /** When the next pending delivery falls due, or null when none is pending. */
  nextDueAt(): number | null {
    return this.s.nextDue.get()!.at;
  }

  /** Records one attempt and its consequence, atomically. `retryAt` null: the delivery is given up. */
  record(id: number, attempt: { at: number; status: number | null; error: string | null; durationMs: number }, retryAt: number | null): void {
    this.db.transaction(() => {
      this.s.attempt.run(id, attempt.at, attempt.status, attempt.error, attempt.durationMs);
      if (attempt.error === null) this.s.delivered.run(attempt.at, attempt.status, id);
      else if (retryAt === null) this.s.failed.run(attempt.status, attempt.error, id);
      else this.s.retry.run(retryAt, attempt.status, attempt.error, id);
    })();
  }

  forJob(jobId: string): { delivery: DeliveryRow; attempts: AttemptRow[] }[] {
    return this.s.forJob.all(jobId).map((delivery) => ({ delivery, attempts: this.s.attemptsOf.all(delivery.id) }));
  }

  holds(jobId: string): boolean {
    return this.s.pendingFor.get(jobId) !== null;
  }

  remove(jobId: string): void {
    this.s.deleteAttempts.run(jobId);
    this.s.deleteDeliveries.run(jobId);
  }
}
