// The CLI's exit codes, so scripts can tell a failed job from a usage mistake, an
// unreachable foreman and a wait that ran out. One mapping from error to code (ADR 0009).
import { BatchTimeoutError, ForemanConnectionError, ForemanHttpError, ForemanUnreachableError, JobError, JobTimeoutError } from "../../clients/ts/errors.ts";
import type { Job } from "../../clients/ts/types.ts";

export const EXIT = { ok: 0, jobEnded: 1, usage: 2, http: 3, timeout: 4 } as const;

export const EXIT_HELP = `Exit codes:
  0  ok (for wait/submit --wait: the job is done)
  1  the job failed or was canceled (pull: a model did not reach success)
  2  usage error
  3  HTTP error from foreman, or foreman could not be reached
  4  timed out waiting (the job is still there; it was not canceled)`;

export const BATCH_EXIT_HELP = `Exit codes:
  0  ok (for submit --wait: the batch completed, though some lines may have failed)
  1  the batch failed, expired or was cancelled (submit --wait)
  2  usage error
  3  HTTP error from foreman, foreman could not be reached, or no results yet
  4  timed out waiting (the batch goes on; it was not cancelled)`;

/** A usage mistake: exit 2 with the message. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** The command's own work failed (a backup that could not be made, an answer that ended in the target's error line): exit 1. */
export class Failed extends Error {
  override readonly name: string = "Failed";
}

/** The person stopped the answer (Ctrl-C): like a canceled job, exit 1. */
export class Stopped extends Failed {
  override readonly name = "Stopped";
}

/** What the command needs is not there (a model the target lacks): exit 3, as the 404 it is, said in words. */
export class NotFound extends Error {
  override readonly name = "NotFound";
}

/** Pure: the exit code for a finished wait. */
export function exitCodeOfJob(job: Job): number {
  return job.status === "done" ? EXIT.ok : EXIT.jobEnded;
}

/** Pure: the exit code and the one line to print for an error a command threw. */
export function describeError(err: unknown): { code: number; message: string } {
  if (err instanceof UsageError) return { code: EXIT.usage, message: err.message };
  if (err instanceof JobTimeoutError || err instanceof BatchTimeoutError) return { code: EXIT.timeout, message: err.message };
  if (err instanceof JobError || err instanceof Failed) return { code: EXIT.jobEnded, message: err.message };
  if (err instanceof NotFound) return { code: EXIT.http, message: err.message };
  if (err instanceof ForemanHttpError && err.status === 401) return { code: EXIT.http, message: `HTTP 401: ${err.message} — pass --token or set FOREMAN_TOKEN` };
  if (err instanceof ForemanHttpError) return { code: EXIT.http, message: `HTTP ${err.status}: ${err.message}${err.field ? ` (${err.field})` : ""}` };
  // the runtime's own sentence ("Is the computer able to access the url?") is no help here
  if (err instanceof ForemanUnreachableError) return { code: EXIT.http, message: `cannot reach foreman at ${err.url} — is it running? (\`foreman serve\`)` };
  if (err instanceof ForemanConnectionError) return { code: EXIT.http, message: err.message };
  return { code: EXIT.http, message: err instanceof Error ? err.message : String(err) };
}
