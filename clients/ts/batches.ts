// OpenAI batches through foreman (ADR 0039) from the TypeScript client: upload a JSONL file of
// lines (from memory or a file's Blob), create the batch, wait for it with progress, and read
// its output and error files back as results joined to each line's custom_id. fetch only.
import type { Batch, BatchFile } from "./api.gen.ts";
import { BatchTimeoutError } from "./errors.ts";
import type { RequestOptions } from "./types.ts";

/** The exchange the batch helpers build on; ForemanClient provides it. */
export interface Requester {
  request(method: string, path: string, init?: RequestOptions & { headers?: Record<string, string>; body?: string | FormData }): Promise<Response>;
}

/** A batch's input: JSONL text or a Blob of it (`Bun.file(path)`, `fs.openAsBlob(path)`), or the lines as objects. */
export type BatchInput = string | Blob | Iterable<object>;

export interface BatchSubmitOptions extends RequestOptions {
  /** the endpoint every line names (default /v1/chat/completions) */
  endpoint?: string;
  /** how long the batch may take: 24h (default), or a Go duration or days foreman also takes */
  completionWindow?: string;
  /** up to 16 string pairs; foreman reads `webhook_url` (the batch's own webhook) and `line_webhooks` (`"true"` or a list of job events: each line's own job webhooks) */
  metadata?: Record<string, string>;
  /** the uploaded file's name (default batch.jsonl) */
  filename?: string;
}

export interface BatchWaitOptions {
  /** called after each poll with the batch as it stands */
  onProgress?: (batch: Batch) => void;
  /** milliseconds between polls (default 1000) */
  interval?: number;
  /** milliseconds to wait in all; then a BatchTimeoutError (the batch goes on) */
  timeout?: number;
  signal?: AbortSignal;
}

/** One line's result, from the output file (the endpoint answered 2xx) or the error file. */
export interface BatchResult {
  custom_id: string;
  /** the endpoint answered with a 2xx status */
  ok: boolean;
  /** the endpoint's HTTP status, or null when the line never got a reply (`error` says why) */
  status_code: number | null;
  /** the endpoint's reply body (its error body when not ok), or null */
  body: unknown;
  /** why a line got no reply: `batch_cancelled`, `batch_expired`, …; null otherwise */
  error: { code: string; message: string } | null;
}

export const BATCH_ENDED: readonly Batch["status"][] = ["completed", "failed", "expired", "cancelled"];

/** Pure: the lines as a JSONL document. */
export function jsonlOf(lines: Iterable<object>): string {
  let out = "";
  for (const line of lines) out += `${JSON.stringify(line)}\n`;
  return out;
}

/** Pure: one output or error file line as a result. */
export function resultOf(line: { custom_id: string; response: { status_code: number; body: unknown } | null; error: { code: string; message: string } | null }): BatchResult {
  const status = line.response?.status_code ?? null;
  return { custom_id: line.custom_id, ok: status !== null && status >= 200 && status < 300, status_code: status, body: line.response?.body ?? null, error: line.error ?? null };
}

const batchPath = (id: string) => `/v1/batches/${encodeURIComponent(id)}`;
const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

export async function uploadBatchFile(api: Requester, input: BatchInput, options: RequestOptions & { filename?: string } = {}): Promise<BatchFile> {
  const blob = input instanceof Blob ? input : new Blob([typeof input === "string" ? input : jsonlOf(input)]);
  const form = new FormData();
  form.set("purpose", "batch");
  form.set("file", blob, options.filename ?? "batch.jsonl");
  return json<BatchFile>(await api.request("POST", "/v1/files", { body: form, signal: options.signal }));
}

export async function submitBatch(api: Requester, input: BatchInput, options: BatchSubmitOptions = {}): Promise<Batch> {
  const file = await uploadBatchFile(api, input, options);
  const body = { input_file_id: file.id, endpoint: options.endpoint ?? "/v1/chat/completions", completion_window: options.completionWindow ?? "24h", ...(options.metadata ? { metadata: options.metadata } : {}) };
  return json<Batch>(await api.request("POST", "/v1/batches", { headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: options.signal }));
}

export const getBatch = async (api: Requester, id: string, options: RequestOptions = {}): Promise<Batch> => json<Batch>(await api.request("GET", batchPath(id), options));

export const cancelBatch = async (api: Requester, id: string, options: RequestOptions = {}): Promise<Batch> => json<Batch>(await api.request("POST", `${batchPath(id)}/cancel`, options));

export interface BatchPage {
  data: Batch[];
  has_more: boolean;
  last_id: string | null;
}

export async function listBatches(api: Requester, page: { after?: string; limit?: number } = {}, options: RequestOptions = {}): Promise<BatchPage> {
  const query = new URLSearchParams();
  if (page.after !== undefined) query.set("after", page.after);
  if (page.limit !== undefined) query.set("limit", String(page.limit));
  const qs = query.toString();
  return json<BatchPage>(await api.request("GET", `/v1/batches${qs ? `?${qs}` : ""}`, options));
}

/** Polls the batch until it has ended (completed, failed, expired, cancelled) and returns it. */
export async function waitForBatch(api: Requester, id: string, options: BatchWaitOptions = {}): Promise<Batch> {
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  for (;;) {
    const batch = await getBatch(api, id, { signal: options.signal });
    options.onProgress?.(batch);
    if (BATCH_ENDED.includes(batch.status)) return batch;
    if (Date.now() >= deadline) throw new BatchTimeoutError(id, options.timeout!);
    await sleep(Math.min(options.interval ?? 1000, Math.max(0, deadline - Date.now())), options.signal);
  }
}

/** The raw bytes of a file (`GET /v1/files/{id}/content`). */
export async function fileText(api: Requester, fileId: string, options: RequestOptions = {}): Promise<string> {
  return (await api.request("GET", `/v1/files/${encodeURIComponent(fileId)}/content`, options)).text();
}

/** Every line's result of a batch, its output file's then its error file's, each with its custom_id. */
export async function* batchResults(api: Requester, batch: Batch, options: RequestOptions = {}): AsyncGenerator<BatchResult> {
  for (const fileId of [batch.output_file_id, batch.error_file_id]) {
    if (!fileId) continue;
    for (const line of (await fileText(api, fileId, options)).split("\n")) if (line.trim()) yield resultOf(JSON.parse(line));
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });
}
