// The webhook dispatcher runs beside the worker and never blocks it: it takes due delivery
// rows from the outbox, sends them (a timeout, no redirects), records every attempt, and
// reschedules failures on a back-off spanning hours. A job's deliveries go out in order: the
// next waits until the one before it was delivered or given up. Concurrency is counted per
// destination (the URL's origin) under a global cap one destination cannot fill, so a slow or
// dead receiver holds up only its own deliveries (ADR 0015), and a destination gets no more
// slots than it has proven it can use: a circuit breaker (breaker.ts, ADR 0029). Every attempt
// first passes the URL policy again and connects to the address that was checked. Everything
// lives in SQLite, so a restart picks up where the last run stopped. A delivery is sent only
// once the state change it reports is on disk (ADR 0016).
import type { Logger } from "../ops/log.ts";
import type { WebhookMeter, WebhookOutcome } from "./meter.ts";
import { nextDelay, RETRY_SCHEDULE_MS } from "./backoff.ts";
import { answered as heard, freeSlots, isOpen, unanswered, UNKNOWN, type Caps, type DestinationHealth } from "./breaker.ts";
import type { Deliveries, DeliveryView, DueDelivery } from "./deliveries.ts";
import { pinnedRequest, type Pinned, type WebhookGuard } from "./guard.ts";
import { webhookHeaders } from "./sign.ts";

export interface DispatcherOptions {
  secret?: string;
  /** Deliveries in flight at once, over all destinations. */
  concurrency?: number;
  /** Deliveries in flight at once to one destination; below `concurrency`. */
  perDestination?: number;
  timeoutMs?: number;
  schedule?: readonly number[];
}

/** The defaults and why: ADR 0015. */
export const CONCURRENCY = 64;
export const PER_DESTINATION = 8;

const MAX_ERROR = 300;

/**
 * How long stop() waits for the sends it aborted to end. A send waiting where no abort reaches
 * it (a disk that does not answer the fsync a delivery waits for) is left: its row stays due
 * and goes out after the restart.
 */
const STOP_WAIT_MS = 2000;

/** What one attempt came to. `final`: no retry, whatever the schedule says. */
interface Outcome {
  status: number | null;
  error: string | null;
  final: boolean;
  label: WebhookOutcome;
}

/** A receiver's answer: 2xx delivered; 410 Gone stops the delivery; anything else is retried. */
function answered(status: number, location: string | null): Outcome {
  if (status >= 200 && status < 300) return { status, error: null, final: false, label: "delivered" };
  if (status === 410) return { status, error: "receiver answered 410 Gone: delivery stopped, not retried", final: true, label: "rejected" };
  if (status >= 300 && status < 400) return { status, error: `redirect to ${location ?? "?"} not followed`, final: false, label: "rejected" };
  return { status, error: `receiver answered ${status}`, final: false, label: "rejected" };
}

/** Connection errors where nothing was sent, so the next checked address may be tried. */
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "EAFNOSUPPORT", "EINVAL"]);

export class Dispatcher {
  /** Jobs with a delivery in flight (one at a time per job). */
  private readonly sending = new Set<string>();
  /** Deliveries in flight per destination. */
  private readonly busy = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = true;
  /** What each destination has shown: the breaker's input. Only destinations with pending deliveries or in flight. */
  private readonly health = new Map<string, DestinationHealth>();
  /** After the database refused to record an attempt, nothing is sent before then. */
  private heldUntil = 0;
  /** Attempts in a row the database refused to record: the hold backs off as a failed attempt would. */
  private unrecorded = 0;
  private pumping = false;
  private again = false;
  private readonly aborts = new Set<AbortController>();
  private readonly caps: Caps;
  private readonly timeoutMs: number;
  private readonly schedule: readonly number[];

  constructor(
    private readonly rows: Deliveries,
    private readonly guard: WebhookGuard,
    private readonly log: Logger,
    private readonly telemetry: WebhookMeter,
    /** Resolves once every commit so far is on disk. */
    private readonly settled: () => Promise<void>,
    private readonly options: DispatcherOptions = {},
  ) {
    const concurrency = options.concurrency ?? CONCURRENCY;
    this.caps = { concurrency, perDestination: Math.min(options.perDestination ?? PER_DESTINATION, concurrency) };
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
    const until = Date.now() + STOP_WAIT_MS;
    while (this.sending.size > 0 && Date.now() < until) await Bun.sleep(5);
    if (this.sending.size > 0) this.log.warn("webhook deliveries still in flight at stop; they are sent after the restart", { in_flight: this.sending.size });
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
    let now = Date.now();
    try {
      if (now < this.heldUntil) return; // the hold's timer looks again
      do {
        this.again = false;
        now = Date.now();
        // destinations whose earliest delivery is longest overdue go first
        const pending = this.rows.destinations();
        this.forgetIdle(pending);
        const ready = pending.filter((d) => d.due <= now).sort((a, b) => a.due - b.due);
        for (const { destination } of ready) {
          const busy = this.busy.get(destination) ?? 0;
          let free = freeSlots(this.healthOf(destination), { here: busy, open: this.inFlightToOpen(), all: this.sending.size }, now, this.caps);
          if (free <= 0) continue;
          // the destination's in-flight deliveries are still pending rows: ask for enough to skip them
          for (const row of this.rows.due(destination, now, free + busy)) {
            if (this.sending.has(row.job_id)) continue;
            this.begin(row, destination);
            if (--free === 0) break;
          }
          if (this.sending.size >= this.caps.concurrency) break;
        }
      } while (this.again);
      this.scheduleNext(now);
    } catch (err) {
      this.log.error("webhook dispatcher error", { error: (err as Error).message });
      this.timer = setTimeout(() => this.wake(), 1000);
    } finally {
      this.pumping = false;
    }
  }

  private healthOf(destination: string): DestinationHealth {
    return this.health.get(destination) ?? UNKNOWN;
  }

  /** Deliveries in flight to destinations whose breaker is open. */
  private inFlightToOpen(): number {
    let n = 0;
    for (const [destination, busy] of this.busy) if (isOpen(this.healthOf(destination))) n += busy;
    return n;
  }

  /** A destination with nothing pending and nothing in flight starts afresh next time: the map stays small. */
  private forgetIdle(pending: readonly { destination: string }[]): void {
    if (this.health.size === 0) return;
    const waiting = new Set(pending.map((d) => d.destination));
    for (const destination of this.health.keys()) if (!waiting.has(destination) && !this.busy.has(destination)) this.health.delete(destination);
  }

  private begin(row: DueDelivery, destination: string): void {
    this.sending.add(row.job_id);
    this.busy.set(destination, (this.busy.get(destination) ?? 0) + 1);
    void this.send(row, destination).finally(() => {
      this.sending.delete(row.job_id);
      const left = this.busy.get(destination)! - 1;
      if (left === 0) this.busy.delete(destination);
      else this.busy.set(destination, left);
      this.wake();
    });
  }

  /** Sends nothing for `ms`, then looks at what is due again. */
  private holdFor(ms: number): void {
    this.heldUntil = Date.now() + ms;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.wake(), ms);
  }

  /** Deliveries due by `now` were looked at; a later one, or a breaker's next probe, needs the timer. */
  private scheduleNext(now: number): void {
    clearTimeout(this.timer);
    let at = this.rows.nextDueAfter(now);
    for (const { probeAt } of this.health.values()) if (probeAt > now && (at === null || probeAt < at)) at = probeAt;
    if (at === null || this.stopped) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, Math.min(at - Date.now(), 60_000)));
  }

  private async send(row: DueDelivery, destination: string): Promise<void> {
    // the row may come from a commit the worker made without waiting for the disk
    await this.settled();
    if (this.stopped) return; // not an attempt: it goes out after the restart
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    const started = performance.now();
    let outcome: Outcome;
    try {
      outcome = await this.attempt(row, abort.signal);
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    if (this.stopped && abort.signal.aborted) return; // not an attempt: it goes out after the restart
    const now = Date.now();
    const duration = performance.now() - started;
    if (outcome.label === "unreachable") this.health.set(destination, unanswered(this.healthOf(destination), now, this.schedule));
    else if (outcome.label !== "refused") this.health.set(destination, heard(this.healthOf(destination), this.caps));
    const retryIn = outcome.error === null || outcome.final ? null : nextDelay(row.attempts + 1, this.schedule);
    try {
      this.rows.record(row.id, { at: now, status: outcome.status, error: outcome.error?.slice(0, MAX_ERROR) ?? null, durationMs: duration }, retryIn === null ? null : now + retryIn);
    } catch (err) {
      // the database refused the attempt (full disk, read-only file): the delivery stays due, and
      // is sent again once the database takes writes — after a pause that backs off as a failed
      // attempt's retry would (the schedule's last step once it is used up), not every few seconds
      this.telemetry.databaseErrors.inc();
      this.unrecorded++;
      const pause = nextDelay(Math.min(this.unrecorded, this.schedule.length), this.schedule) ?? RETRY_SCHEDULE_MS[0]!;
      this.log.error("webhook attempt could not be recorded; the delivery will be sent again", { job_id: row.job_id, webhook_id: row.webhook_id, retry_in_ms: pause, error: (err as Error).message });
      this.holdFor(pause);
      return;
    }
    this.unrecorded = 0;
    this.telemetry.webhookDeliveries.inc({ outcome: outcome.label });
    if (retryIn === null && outcome.error !== null) this.telemetry.webhookFailed.inc();
    if (outcome.error === null) this.telemetry.webhookLag.observe((now - row.created_at) / 1000);
    else this.log.warn("webhook delivery failed", { job_id: row.job_id, delivery_id: row.id, webhook_id: row.webhook_id, event: row.event_type, status: outcome.status, error: outcome.error, retry: retryIn !== null });
  }

  /** One attempt: the policy (after DNS), then the request to each checked address until one connects. */
  private async attempt(row: DueDelivery, signal: AbortSignal): Promise<Outcome> {
    const admission = await this.guard.admit(row.url, signal);
    if (admission.kind === "refused") return { status: null, error: `refused by the webhook URL policy: ${admission.reason}`, final: true, label: "refused" };
    if (admission.kind === "unresolved") return { status: null, error: admission.reason, final: false, label: "unreachable" };
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = webhookHeaders(this.options.secret, row.webhook_id, timestamp, row.payload);
    for (let i = 0; ; i++) {
      try {
        const res = await this.post(admission.routes[i]!, headers, row.payload, signal);
        await res.body?.cancel().catch(() => {});
        return answered(res.status, res.headers.get("location"));
      } catch (err) {
        const code = (err as { code?: string }).code ?? "";
        if (signal.aborted || i === admission.routes.length - 1 || !CONNECT_ERRORS.has(code)) {
          const error = signal.aborted ? (this.stopped ? "foreman stopped" : `no answer within ${this.timeoutMs} ms`) : (err as Error).message;
          return { status: null, error, final: false, label: "unreachable" };
        }
      }
    }
  }

  private post(route: Pinned, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<Response> {
    return fetch(...pinnedRequest(route, { method: "POST", body, headers, redirect: "manual", signal }));
  }

  /** Every delivery of a job with its attempts, for GET /jobs/{id}/deliveries. */
  deliveries(jobId: string): DeliveryView[] {
    return this.rows.view(jobId);
  }

}
