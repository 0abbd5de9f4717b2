// The client's types, taken from the server's own TypeBox schemas with `import type` so the
// client is typed end to end without loading TypeBox (or anything else) at run time.
import type { Job } from "../../src/queue/view.ts";
import type { Submission } from "../../src/queue/submit.ts";
import type { JobStatus } from "../../src/contract/states.ts";
import type { LiveListener } from "../../src/engine/worker.ts";

export type { Job, JobStatus, Submission };

/** `GET /jobs` filters; `cursor` is the `next_cursor` of the previous page. */
export interface ListFilter {
  status?: JobStatus;
  model?: string;
  limit?: number;
  cursor?: string;
}

export interface JobList {
  jobs: Job[];
  next_cursor: string | null;
}

/** Live output of a running job (`event: job.progress`): the text since the last one, and the totals. */
export type JobProgress = Parameters<LiveListener>[1];

/** One event of `GET /jobs/{id}/events`: a state change carrying the job, or live progress. */
export type JobEvent = { id?: string; event: `job.${JobStatus}`; data: Job } | { id?: string; event: "job.progress"; data: JobProgress };

export interface ClientOptions {
  /** foreman's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** FOREMAN_TOKEN, sent as `Authorization: Bearer` */
  token?: string;
  /** a fetch to use instead of the global one (tests, proxies, instrumentation) */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

export interface RunOptions {
  /** milliseconds to wait for the job to finish; unset = no limit */
  timeout?: number;
  signal?: AbortSignal;
  /** defaults to a fresh random key per run() call */
  idempotencyKey?: string;
}
