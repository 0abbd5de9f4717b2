// In-memory notifications of job events, after they commit: long-polls (`?wait=`,
// `Prefer: wait`), the SSE event stream and the webhook dispatcher wake up through here
// instead of polling the database.
import { isTerminal } from "../contract/states.ts";
import type { JobEvent, JobRecord, Queue } from "./queue.ts";

type Listener = (job: JobRecord, event: JobEvent) => void;

export class JobWatch {
  private readonly byJob = new Map<string, Set<Listener>>();
  private readonly all = new Set<Listener>();

  constructor(private readonly queue: Queue) {
    queue.onCommitted((job, event) => {
      if (this.all.size > 0 || this.byJob.has(job.id)) this.emit(job, event);
    });
  }

  private emit(job: JobRecord, event: JobEvent): void {
    for (const l of this.all) l(job, event);
    for (const l of this.byJob.get(job.id) ?? []) l(job, event);
  }

  subscribe(jobId: string | null, listener: Listener): () => void {
    if (jobId === null) {
      this.all.add(listener);
      return () => this.all.delete(listener);
    }
    let set = this.byJob.get(jobId);
    if (!set) this.byJob.set(jobId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.byJob.delete(jobId);
    };
  }

  /** Resolves with the job once it is terminal, or with its current state after `ms`. */
  async untilTerminal(jobId: string, ms: number, signal?: AbortSignal): Promise<JobRecord | null> {
    const now = this.queue.get(jobId);
    if (!now || isTerminal(now.status) || ms <= 0) return now;
    const { promise, resolve } = Promise.withResolvers<void>();
    const unsubscribe = this.subscribe(jobId, (job) => isTerminal(job.status) && resolve());
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => resolve(), { once: true });
    await promise;
    clearTimeout(timer);
    unsubscribe();
    return this.queue.get(jobId);
  }
}
