// The client's errors are values a caller can branch on: an HTTP answer foreman refused
// (status, message, field), a connection that failed, or a job that ended badly or not in
// time — the job errors carry the job so the caller can look at it, retry, or cancel it.
// No parameter properties or enums, so the file is plain erasable TypeScript for Node.
import type { Job } from "./types.ts";

/** foreman answered 4xx/5xx; `field` is the JSON pointer of the offending field, when known. */
export class ForemanHttpError extends Error {
  override readonly name = "ForemanHttpError";
  readonly status: number;
  readonly field: string | undefined;
  constructor(status: number, message: string, field?: string) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

/** foreman could not be reached, or the connection broke before a complete answer. */
export class ForemanConnectionError extends Error {
  override readonly name: string = "ForemanConnectionError";
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** Nothing answered at `url` (refused, no such host, no route): foreman is not running there, or the address is wrong. */
export class ForemanUnreachableError extends ForemanConnectionError {
  override readonly name = "ForemanUnreachableError";
  readonly url: string;
  constructor(url: string, cause: unknown) {
    super(`cannot reach foreman at ${url}: ${messageOf(cause)}`, cause);
    this.url = url;
  }
}

/**
 * In a browser: foreman answers at `url`, but the browser would not let this request through —
 * the page's origin is not allowed (FOREMAN_ORIGINS), or the CORS preflight refused the request.
 * Not transient: retrying cannot help.
 */
export class ForemanBlockedError extends Error {
  override readonly name = "ForemanBlockedError";
  readonly url: string;
  constructor(url: string, origin: string | undefined, cause: unknown) {
    super(`the browser blocked the request to foreman at ${url}: foreman answers there, but its CORS reply does not allow ${origin ? `this page's origin (${origin})` : "this page"} or the request's headers; allow the origin with FOREMAN_ORIGINS`, { cause });
    this.url = url;
  }
}

/** A job that did not end done; `job` is its last known state. */
export abstract class JobError extends Error {
  readonly job: Job;
  constructor(job: Job, message: string) {
    super(message);
    this.job = job;
  }
}

export class JobFailedError extends JobError {
  override readonly name = "JobFailedError";
  constructor(job: Job) {
    super(job, `job ${job.id} failed${job.error ? ` (${job.error.status}): ${job.error.message}` : ""}`);
  }
}

export class JobCanceledError extends JobError {
  override readonly name = "JobCanceledError";
  constructor(job: Job) {
    super(job, `job ${job.id} was canceled`);
  }
}

/** The wait ran out; the job was left alone (not canceled) and can still be fetched. */
export class JobTimeoutError extends JobError {
  override readonly name = "JobTimeoutError";
  constructor(job: Job, timeoutMs: number) {
    super(job, `job ${job.id} did not finish within ${timeoutMs} ms; it is still ${job.status} and was not canceled (GET /jobs/${job.id}, or cancel it)`);
  }
}

/** Ollama's reply to a path it has no route for (Go's gin), which foreman never sends for its own routes. */
const OLLAMA_NOT_FOUND = "404 page not found";

/** Reads foreman's error body `{"error":{"status","message","field"?}}` (or anything else) into an error. */
/** A batch that had not ended when the wait ran out; it goes on (it was not cancelled). */
export class BatchTimeoutError extends Error {
  override readonly name = "BatchTimeoutError";
  constructor(readonly batchId: string, timeoutMs: number) {
    super(`batch ${batchId} did not end within ${timeoutMs} ms; it goes on and was not cancelled (foreman batch get ${batchId}, or cancel it)`);
  }
}

export async function httpErrorOf(res: Response): Promise<ForemanHttpError> {
  const text = await res.text().catch(() => "");
  if (res.status === 404 && text.trim() === OLLAMA_NOT_FOUND && !res.headers.has("x-request-id")) {
    const at = res.url ? new URL(res.url).origin : "this address";
    return new ForemanHttpError(404, `${at} answers like an Ollama server, not like foreman (it has no ${res.url ? new URL(res.url).pathname : "such"} route): give foreman's address instead (foreman listens on port 8080 by default)`);
  }
  let message = text.trim() || res.statusText || `HTTP ${res.status}`;
  let field: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown };
    const error = body.error;
    if (typeof error === "string") message = error;
    else if (error && typeof error === "object") {
      const e = error as { message?: unknown; field?: unknown };
      if (typeof e.message === "string") message = e.message;
      if (typeof e.field === "string") field = e.field;
    }
  } catch {
    // not JSON: keep the text
  }
  return new ForemanHttpError(res.status, message, field);
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
