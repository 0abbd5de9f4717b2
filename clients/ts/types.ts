// The client's types. The shapes of the API (Job, Submission, …) are generated from the
// server's TypeBox schemas into api.gen.ts, so they cannot drift; what is only the client's
// (options, the event union) is written here.
import type { JobStatus } from "../../src/contract/states.ts";
import type { Batch, BatchFile, Job, JobList, JobProgress, ListFilter, Status, Submission, Usage, UsageFilter, UsageReport } from "./api.gen.ts";

export type { Batch, BatchFile, Job, JobList, JobProgress, JobStatus, ListFilter, Status, Submission, Usage, UsageFilter, UsageReport };

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

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface RunOptions {
  /** milliseconds to wait for the job to finish; unset = no limit */
  timeout?: number;
  signal?: AbortSignal;
  /** defaults to a fresh random key per run() call */
  idempotencyKey?: string;
}

/** The exchanges run() and the event stream build on; ForemanClient provides them. */
export interface JobApi {
  submit(job: Submission, options?: RequestOptions & { idempotencyKey?: string; wait?: number }): Promise<Job>;
  get(id: string, options?: RequestOptions & { wait?: number }): Promise<Job>;
  artifact(id: string, options?: RequestOptions): Promise<unknown>;
  request(method: string, path: string, init?: RequestOptions & { headers?: Record<string, string>; body?: string | FormData }): Promise<Response>;
}
