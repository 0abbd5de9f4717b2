// ForemanClient: foreman's job API over plain fetch — nothing else at run time, no Bun-only
// APIs — so it runs in Bun and Node ≥ 20. Each method is one HTTP exchange; errors come back
// as ForemanHttpError (foreman answered 4xx/5xx) or ForemanConnectionError (it did not).
// The waiting facade is run(), in run.ts; the event stream is in events.ts.
import { ForemanBlockedError, ForemanConnectionError, ForemanUnreachableError, httpErrorOf, messageOf } from "./errors.ts";
import { jobEvents } from "./events.ts";
import { runJob, waitForJob } from "./run.ts";
import { batchResults, cancelBatch, fileText, getBatch, listBatches, submitBatch, waitForBatch, type BatchInput, type BatchPage, type BatchResult, type BatchSubmitOptions, type BatchWaitOptions } from "./batches.ts";
import type { Batch, ClientOptions, Job, JobApi, JobEvent, JobList, ListFilter, RequestOptions, RunOptions, Submission, UsageFilter, UsageReport } from "./types.ts";

type Fetch = NonNullable<ClientOptions["fetch"]>;

export class ForemanClient implements JobApi {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #fetch: Fetch;

  constructor(options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
  }

  /** POST /jobs. With an idempotency key, a repeat of the same submission returns the same job. */
  async submit(job: Submission, options: RequestOptions & { idempotencyKey?: string; wait?: number } = {}): Promise<Job> {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (options.idempotencyKey !== undefined) headers["idempotency-key"] = options.idempotencyKey;
    if (options.wait !== undefined) headers.prefer = `wait=${options.wait}`;
    return this.json<Job>(await this.request("POST", "/jobs", { headers, body: JSON.stringify(job), signal: options.signal }));
  }

  /** GET /jobs/{id}; `wait` (seconds, ≤ 300) long-polls until the job is finished. */
  async get(id: string, options: RequestOptions & { wait?: number } = {}): Promise<Job> {
    const query = options.wait ? `?wait=${options.wait}` : "";
    return this.json<Job>(await this.request("GET", `${jobPath(id)}${query}`, options));
  }

  /** GET /jobs: one page; pass `next_cursor` back as `cursor` for the next one. */
  async list(filter: ListFilter = {}, options: RequestOptions = {}): Promise<JobList> {
    return this.json<JobList>(await this.request("GET", withQuery("/jobs", filter), options));
  }

  /** GET /usage: what finished work cost, summed by model (default), endpoint, lane, client or tag over whole hours (`since`, `until`: RFC 3339 or `24h`, `7d`…). */
  async usage(filter: UsageFilter = {}, options: RequestOptions = {}): Promise<UsageReport> {
    return this.json<UsageReport>(await this.request("GET", withQuery("/usage", filter), options));
  }

  /** POST /jobs/{id}/cancel: the job as it is after the request (canceled, or still stopping). */
  async cancel(id: string, options: RequestOptions = {}): Promise<Job> {
    return this.json<Job>(await this.request("POST", `${jobPath(id)}/cancel`, options));
  }

  /** GET /jobs/{id}/artifact: parsed JSON for JSON content types, the text otherwise. */
  async artifact(id: string, options: RequestOptions = {}): Promise<unknown> {
    const res = await this.request("GET", `${jobPath(id)}/artifact`, options);
    const text = await this.read(res, () => res.text());
    return /[/+]json\b/i.test(res.headers.get("content-type") ?? "") ? JSON.parse(text) : text;
  }

  /** GET /jobs/{id}/events as an async iterator; reconnects with Last-Event-ID until the job ends. */
  events(id: string, options: RequestOptions & { lastEventId?: string } = {}): AsyncGenerator<JobEvent> {
    return jobEvents(this, id, options);
  }

  /** Waits (long-polling) until the job ends and returns it, whatever the outcome; JobTimeoutError after `timeout` ms. */
  async wait(id: string, options: { timeout?: number; signal?: AbortSignal } = {}): Promise<Job> {
    return waitForJob(this, await this.get(id, { signal: options.signal }), options);
  }

  /** Submit and wait: the artifact when the job is done, else a JobFailedError / JobCanceledError / JobTimeoutError. */
  run<T = unknown>(job: Submission, options: RunOptions = {}): Promise<T> {
    return runJob(this, job, options) as Promise<T>;
  }

  /** Uploads the lines (JSONL text, a Blob such as `Bun.file(path)`, or objects) with POST /v1/files, then creates their batch (POST /v1/batches). */
  submitBatch(input: BatchInput, options: BatchSubmitOptions = {}): Promise<Batch> {
    return submitBatch(this, input, options);
  }

  /** GET /v1/batches/{id}. */
  batch(id: string, options: RequestOptions = {}): Promise<Batch> {
    return getBatch(this, id, options);
  }

  /** GET /v1/batches: one page, newest first; pass the page's `last_id` as `after` for the next. */
  batches(page: { after?: string; limit?: number } = {}, options: RequestOptions = {}): Promise<BatchPage> {
    return listBatches(this, page, options);
  }

  /** POST /v1/batches/{id}/cancel: the batch as it is after the request (cancelling, or cancelled). */
  cancelBatch(id: string, options: RequestOptions = {}): Promise<Batch> {
    return cancelBatch(this, id, options);
  }

  /** Polls until the batch has ended, calling `onProgress` with each poll's batch; BatchTimeoutError after `timeout` ms. */
  waitBatch(id: string, options: BatchWaitOptions = {}): Promise<Batch> {
    return waitForBatch(this, id, options);
  }

  /** GET /v1/files/{id}/content: a file's text (a batch's output or error file is JSONL). */
  fileContent(id: string, options: RequestOptions = {}): Promise<string> {
    return fileText(this, id, options);
  }

  /** Each line's result (output file, then error file) with its custom_id; order is not the input's. */
  batchResults(batch: Batch, options: RequestOptions = {}): AsyncGenerator<BatchResult> {
    return batchResults(this, batch, options);
  }

  /** One HTTP exchange with auth; non-2xx becomes ForemanHttpError, a failed connection ForemanConnectionError. */
  async request(method: string, path: string, init: RequestOptions & { headers?: Record<string, string>; body?: string | FormData } = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", ...init.headers };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let res: Response;
    try {
      res = await this.#fetch(`${this.baseUrl}${path}`, { method, headers, body: init.body, signal: init.signal });
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason;
      if (await this.blockedByBrowser(init.signal)) throw new ForemanBlockedError(this.baseUrl, (globalThis as { location?: { origin?: string } }).location?.origin, err);
      throw new ForemanUnreachableError(this.baseUrl, err);
    }
    if (!res.ok) throw await httpErrorOf(res);
    return res;
  }

  /**
   * In a browser a fetch that fails tells nothing about why: nothing there, or a CORS refusal
   * (which retrying cannot mend). A no-cors GET needs no preflight and resolves whenever the
   * server answers at all — then the browser, not the network, refused.
   */
  private async blockedByBrowser(signal: AbortSignal | undefined): Promise<boolean> {
    if (!("document" in globalThis || "WorkerGlobalScope" in globalThis)) return false;
    try {
      await this.#fetch(`${this.baseUrl}/healthz`, { mode: "no-cors", signal });
      return true;
    } catch {
      return false;
    }
  }

  private async json<T>(res: Response): Promise<T> {
    return JSON.parse(await this.read(res, () => res.text())) as T;
  }

  /** Reads a body; a connection that breaks halfway is a ForemanConnectionError like any other. */
  private async read<T>(res: Response, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      throw new ForemanConnectionError(`connection to foreman broke while reading ${res.url || "a reply"}: ${messageOf(err)}`, err);
    }
  }
}

const jobPath = (id: string) => `/jobs/${encodeURIComponent(id)}`;

/** `path` with the filter's set fields as its query string. */
function withQuery(path: string, filter: object): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value !== undefined) query.set(key, String(value));
  const qs = query.toString();
  return qs ? `${path}?${qs}` : path;
}
