// Expiry (ADR 0035): a job not started by its `start_by` never starts. The worker may be busy
// with a long job or the target asleep when that time comes, so the worker's own check as it
// picks a job is not enough: this sweep keeps one timer set to the next start_by and cancels
// what is due through the queue's transition, so the job's event and webhook go out as for
// any cancel. It looks at start-up too, for what expired while foreman was down.
import type { Logger } from "../ops/log.ts";
import { notYetStarted, type Queue } from "../queue/queue.ts";
import { delayUntil } from "../queue/schedule.ts";

export class Expiry {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires, or null when none is set. */
  private armedFor: number | null = null;
  private stopped = true;

  constructor(
    private readonly queue: Queue,
    private readonly log: Logger,
  ) {}

  /** Expires what is due now, then listens for new jobs with an earlier start_by. */
  start(): void {
    this.stopped = false;
    this.queue.onCommitted((job, event) => {
      if (event.type === "queued" && job.startBy !== null && notYetStarted(job) && (this.armedFor === null || job.startBy < this.armedFor)) this.arm(job.startBy);
    });
    this.sweep();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private sweep(): void {
    if (this.stopped) return;
    try {
      let expired = 0;
      for (let n = this.queue.expireDue(Date.now()); n > 0; n = this.queue.expireDue(Date.now())) expired += n;
      if (expired > 0) this.log.info("jobs not started by their start_by canceled as expired", { jobs: expired });
      const next = this.queue.nextExpiry();
      if (next !== null) this.arm(next);
      else this.disarm();
    } catch (err) {
      // the database failed: look again shortly
      this.log.error("could not expire jobs past their start_by", { error: (err as Error).message });
      this.arm(Date.now() + 1000);
    }
  }

  private arm(at: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.sweep(), delayUntil(at, Date.now()));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.armedFor = null;
  }
}
