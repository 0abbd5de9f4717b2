// In-memory notifications of job events, after they commit: long-polls (`?wait=`,
// `Prefer: wait`), the SSE event stream and the webhook dispatcher wake up through here
// instead of polling the database. A job whose end the worker could not write (its database
// refused) is not terminal yet: whoever waits for it hears a 503 instead of a timeout.
import { HttpError } from "../contract/http-error.ts";
import { isTerminal } from "../contract/states.ts";
import type { JobEvent, JobRecord, Queue } from "./queue.ts";

type Listener = (job: JobRecord, event: JobEvent) => void;

export class JobWatch {
  private readonly byJob = new Map<string, Set<Listener>>();
  private readonly all = new Set<Listener>();
  private readonly stalled = new Map<string, Set<(error: Error) => void>>();

  constructor(private readonly queue: Queue) {
    queue.onCommitted((job, event) => {
      if (this.all.size > 0 || this.byJob.has(job.id)) this.emit(job, event);
    });
  }

  private emit(job: JobRecord, event: JobEvent): void {
    for (const l of this.all) l(job, event);
    for (const l of this.byJob.get(job.id) ?? []) l(job, event);
  }

  /** The worker could not write this job's end (it keeps trying): whoever waits for the job hears so. */
  unrecorded(jobId: string, error: Error): void {
    for (const l of this.stalled.get(jobId) ?? []) l(error);
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

  /**
   * Resolves with the job once it is terminal, or with its current state after `ms`; throws a
   * 503 when the worker cannot write the job's end.
   */
  async untilTerminal(jobId: string, ms: number, signal?: AbortSignal): Promise<JobRecord | null> {
    const now = this.queue.get(jobId);
    if (!now || isTerminal(now.status) || ms <= 0) return now;
    const { promise, resolve } = Promise.withResolvers<void>();
    let trouble: Error | undefined;
    const unsubscribe = this.subscribe(jobId, (job) => isTerminal(job.status) && resolve());
    const onStall = (error: Error) => {
      trouble = error;
      resolve();
    };
    let stalls = this.stalled.get(jobId);
    if (!stalls) this.stalled.set(jobId, (stalls = new Set()));
    stalls.add(onStall);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => resolve(), { once: true });
    await promise;
    clearTimeout(timer);
    unsubscribe();
    stalls.delete(onStall);
    if (stalls.size === 0) this.stalled.delete(jobId);
    if (trouble) {
      const message = `job ${jobId} left the target, but foreman cannot write its end to its database right now (${trouble.message}); it is written once the database takes writes again — ask again later`;
      throw new HttpError(503, message, undefined, { "retry-after": "5" });
    }
    return this.queue.get(jobId);
  }
}
