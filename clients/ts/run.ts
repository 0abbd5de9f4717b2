// run(): the synchronous facade over the async job API. One idempotency key per call makes
// every retried submit land on the same job; then a long-poll (GET /jobs/{id}?wait=),
// re-issued until the job ends. Dropped connections are retried with back-off. A timeout
// cancels nothing: the job stays queued or running and the error says so (ADR 0009).
import { MAX_WAIT_SECONDS } from "../../src/contract/prefer.ts";
import { isTerminal } from "../../src/contract/states.ts";
import { ForemanConnectionError, JobCanceledError, JobFailedError, JobTimeoutError, messageOf } from "./errors.ts";
import { retrying, TIMED_OUT } from "./retry.ts";
import type { Job, JobApi, RunOptions, Submission } from "./types.ts";

/** Pure: the `?wait=` seconds for a long-poll with `remainingMs` left (the client cuts it at the deadline). */
export function waitSeconds(remainingMs: number): number {
  return Math.max(1, Math.min(MAX_WAIT_SECONDS, Math.ceil(remainingMs / 1000)));
}

/** Pure: the outcome of a terminal job other than done, as the error run() throws. */
export function jobEndError(job: Job): JobFailedError | JobCanceledError {
  return job.status === "canceled" ? new JobCanceledError(job) : new JobFailedError(job);
}

/**
 * Long-polls until the job ends and returns it as it ended (done, failed or canceled);
 * throws JobTimeoutError when `deadline` passes first. The job is never canceled here.
 */
export async function waitForJob(client: JobApi, start: Job, options: { timeout?: number; signal?: AbortSignal }, deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout): Promise<Job> {
  const { signal } = options;
  let job = start;
  while (!isTerminal(job.status)) {
    const current = job;
    const next = await retrying((s) => client.get(current.id, { wait: waitSeconds(deadline - Date.now()), signal: s }), signal, deadline);
    if (next === TIMED_OUT) {
      const briefly = AbortSignal.timeout(2000);
      job = await client.get(job.id, { signal: signal ? AbortSignal.any([signal, briefly]) : briefly }).catch(() => job);
      if (isTerminal(job.status)) break;
      throw new JobTimeoutError(job, options.timeout ?? 0);
    }
    job = next;
  }
  return job;
}

export async function runJob(client: JobApi, submission: Submission, options: RunOptions): Promise<unknown> {
  const { signal, timeout } = options;
  const key = options.idempotencyKey ?? globalThis.crypto.randomUUID();
  const deadline = timeout === undefined ? Infinity : Date.now() + timeout;
  let lastError: unknown;
  const submitted = await retrying((s) => client.submit(submission, { idempotencyKey: key, signal: s }), signal, deadline, (err) => (lastError = err));
  if (submitted === TIMED_OUT) {
    const why = lastError === undefined ? "no answer in time" : messageOf(lastError);
    throw new ForemanConnectionError(`could not submit the job within ${timeout} ms (${why}); no job was confirmed — submitting again with Idempotency-Key ${key} cannot make a second one`, lastError);
  }
  const job = await waitForJob(client, submitted, { timeout, signal }, deadline);
  if (job.status !== "done") throw jobEndError(job);
  return retrying((s) => client.artifact(job.id, { signal: s }), signal, Infinity);
}
