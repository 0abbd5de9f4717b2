// @foreman/client: the TypeScript client for foreman's job API (Bun and Node ≥ 20, fetch only).
//   const foreman = new ForemanClient({ baseUrl: "http://127.0.0.1:8080" });
//   const reply = await foreman.run({ request: { model: "llama3.2", messages } }, { timeout: 60_000 });
export { ForemanClient } from "./client.ts";
export { BatchTimeoutError, ForemanBlockedError, ForemanConnectionError, ForemanHttpError, ForemanUnreachableError, JobCanceledError, JobError, JobFailedError, JobTimeoutError } from "./errors.ts";
export type { Batch, BatchFile, ClientOptions, Job, JobEvent, JobList, JobProgress, JobStatus, ListFilter, RequestOptions, RunOptions, Submission, Usage, UsageFilter, UsageReport } from "./types.ts";
export { BATCH_ENDED, type BatchInput, type BatchPage, type BatchResult, type BatchSubmitOptions, type BatchWaitOptions } from "./batches.ts";
