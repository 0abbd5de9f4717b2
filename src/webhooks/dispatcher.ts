// The webhook dispatcher runs beside the worker and never blocks it: it takes due delivery
// rows from the outbox, sends them (bounded concurrency, a timeout, no redirects), records
// every attempt, and reschedules failures on a back-off spanning hours. A job's deliveries go
// out in order: the next waits until the one before it was delivered or given up. Everything
// lives in SQLite, so a restart picks up where the last run stopped. A delivery is sent only
// once the state change it reports is on disk (ADR 0016).
import type { Logger } from "../ops/log.ts";
import type { Telemetry } from "../ops/telemetry.ts";
import { nextDelay, RETRY_SCHEDULE_MS } from "./backoff.ts";
import type { Deliveries, DueDelivery } from "./deliveries.ts";
import { webhookHeaders } from "./sign.ts";

export interface DispatcherOptions {
  secret?: string;
  concurrency?: number;
  timeoutMs?: number;
  schedule?: readonly number[];
}

export interface DeliveryView {
  id: number;
  event: string;
  url: string;
  status: "pending" | "delivered" | "failed";
  attempts: { at: string; status: number | null; error: string | null; duration_ms: number }[];
  next_attempt_at: string | null;
  delivered_at: string | null;
}

const MAX_ERROR = 300;

export class Dispatcher {
  private readonly inFlight = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  private pumping = false;
  private again = false;
  private readonly aborts = new Set<AbortController>();
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly schedule: readonly number[];

  constructor(
    private readonly rows: Deliveries,
    private readonly log: Logger,
    private readonly telemetry: Telemetry,
    /** Resolves once every commit so far is on disk. */
    private readonly settled: () => Promise<void>,
    private readonly options: DispatcherOptions = {},
  ) {
    this.concurrency = options.concurrency ?? 8;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.schedule = options.schedule ?? RETRY_SCHEDULE_MS;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const a of this.aborts) a.abort();
    while (this.inFlight.size > 0) await Bun.sleep(5);
  }

  /** Called when outbox rows were added; the look happens in a microtask, after their commit. */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    queueMicrotask(() => this.pump());
  }

  private pump(): void {
    try {
      do {
        this.again = false;
        const free = this.concurrency - this.inFlight.size;
        if (free <= 0) break;
        const rows = this.rows.due(Date.now(), free + this.inFlight.size);
        for (const row of rows) {
          if (this.inFlight.size >= this.concurrency) break;
          if (this.inFlight.has(row.job_id)) continue;
          this.inFlight.add(row.job_id);
          void this.send(row).finally(() => {
            this.inFlight.delete(row.job_id);
            this.wake();
          });
        }
      } while (this.again);
      this.scheduleNext();
    } catch (err) {
      this.log.error("webhook dispatcher error", { error: (err as Error).message });
      this.timer = setTimeout(() => this.wake(), 1000);
    } finally {
      this.pumping = false;
    }
  }

  private scheduleNext(): void {
    clearTimeout(this.timer);
    const at = this.rows.nextDueAt();
    if (at === null || this.stopped) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.min(at - Date.now(), 60_000)));
  }

  private async send(row: DueDelivery): Promise<void> {
    // the row may come from a commit the worker made without waiting for the disk
    await this.settled();
    if (this.stopped) return; // not an attempt: it goes out after the restart
    const id = `msg_${row.id}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const started = performance.now();
    let status: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(row.url, { method: "POST", body: row.payload, headers: webhookHeaders(this.options.secret, id, timestamp, row.payload), redirect: "manual", signal: abort.signal });
      status = res.status;
      await res.body?.cancel().catch(() => {});
      if (status < 200 || status >= 300) error = status >= 300 && status < 400 ? `redirect to ${res.headers.get("location") ?? "?"} not followed` : `receiver answered ${status}`;
    } catch (err) {
      error = abort.signal.aborted ? (this.stopped ? "foreman stopped" : `no answer within ${this.timeoutMs} ms`) : (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    if (this.stopped && error === "foreman stopped") return; // not an attempt: it goes out after the restart
    const now = Date.now();
    const duration = performance.now() - started;
    const retryAt = error === null ? null : nextDelay(row.attempts + 1, this.schedule);
    this.rows.record(row.id, { at: now, status, error: error?.slice(0, MAX_ERROR) ?? null, durationMs: duration }, retryAt === null ? null : now + retryAt);
    if (error === null) {
      this.telemetry.webhookDeliveries.inc({ outcome: "delivered" });
      this.telemetry.webhookLag.observe((now - row.created_at) / 1000);
    } else {
      this.telemetry.webhookDeliveries.inc({ outcome: status === null ? "unreachable" : "rejected" });
      this.log.warn("webhook delivery failed", { jobId: row.job_id, deliveryId: row.id, event: row.event_type, status, error });
    }
  }

  /** Every delivery of a job with its attempts, for GET /jobs/{id}/deliveries. */
  deliveries(jobId: string): DeliveryView[] {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return this.rows.forJob(jobId).map(({ delivery: d, attempts }) => ({
      id: d.id,
      event: d.event_type,
      url: d.url,
      status: d.status,
      attempts: attempts.map((a) => ({ at: iso(a.at)!, status: a.status, error: a.error, duration_ms: Math.round(a.duration_ms * 10) / 10 })),
      next_attempt_at: d.status === "pending" ? iso(d.next_attempt_at) : null,
      delivered_at: iso(d.delivered_at),
    }));
  }
}
