// Running OpenAI batches (ADR 0039). Validation reads the input file line by line and checks every
// line; a valid file's lines become async jobs of the batch's endpoint, below plain jobs
// (BATCH_PRIORITY), expiring at the end of the completion window (their start_by). They are
// queued a chunk per transaction, held out of the scheduler, and made runnable by one last commit
// (ADR 0041): all or none, without holding 50,000 jobs in memory or the event loop for seconds.
// The batch follows its jobs: when the last line ends, the output and error files are written a
// page at a time (`finalizing`, visible) and the batch ends completed, expired or cancelled; a
// write that fails (a full disk) is tried again until it succeeds. A restart resumes every batch
// not ended: the lines are ordinary durable jobs, so none runs twice.
// Anthropic's message batches run on the same engine: their requests are written as a JSONL file of
// `{custom_id, params}` lines and the batch's endpoint is /v1/messages (MESSAGES_ENDPOINT); only the
// line format and the result lines differ.
import { HttpError } from "../contract/http-error.ts";
import { anthropicErrorType } from "../ollama/anthropic-error.ts";
import { isTerminal, JOB_STATES } from "../contract/states.ts";
import type { Logger } from "../ops/log.ts";
import { BATCH_PRIORITY, batchEnded, type BatchLine, type BatchRecord, type Batches, type BatchUsage, type LineError } from "../queue/batches.ts";
import { fileLines, MESSAGE_BATCH_PURPOSE, type Files, type WrittenFile } from "../queue/files.ts";
import { ASYNC, type Queue } from "../queue/queue.ts";
import { parseMaxRun } from "../queue/schedule.ts";
import { requestFor, type WebhookTarget } from "../queue/submit.ts";
import type { Worker } from "./worker.ts";

/** The endpoints a batch may name (those Ollama serves of OpenAI's batch endpoints). */
export const BATCH_ENDPOINTS = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"] as const;
/** The endpoint of an Anthropic message batch: its lines are `{custom_id, params}`, params a Messages request. */
export const MESSAGES_ENDPOINT = "/v1/messages";
/** Anthropic's custom_id: 1 to 64 letters, digits, `_` or `-`. */
const MESSAGE_CUSTOM_ID = /^[a-zA-Z0-9_-]{1,64}$/;
/** errors.data of an invalid file names at most this many lines; the last entry says how many more. */
export const MAX_LINE_ERRORS = 100;
/**
 * Lines checked, queued (one transaction) or written to the result files between two turns of
 * the event loop (ADR 0041): a few tens of milliseconds of work, and what is held in memory at once.
 */
export const CHUNK_LINES = 2000;
/** Result text buffered before it is written and the event loop runs, whatever the page (an embedding's line is kilobytes). */
const RESULT_FLUSH_CHARS = 1 << 20;

/** A finalizing that failed (a full disk) is tried again after this long: 1 s, doubling to 8 s. Pure. */
export function finalizeRetryMs(failures: number): number {
  return Math.min(8000, 1000 * 2 ** Math.max(0, failures - 1));
}

/** Lets the event loop run: replies, the worker, timers. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The service is stopping: a validation or finalizing in progress leaves off, the next start resumes it. */
class Stopped extends Error {}

/** A completion window: OpenAI's "24h", or any Go duration or whole days ("7d") as foreman's extension. Pure. */
export function windowMs(text: string): number | { error: string } {
  const days = /^(\d{1,3})d$/.exec(text);
  if (days) return Number(days[1]) > 0 && Number(days[1]) <= 366 ? Number(days[1]) * 86_400_000 : { error: "a window of days is 1d to 366d" };
  const ms = parseMaxRun(text);
  if (typeof ms === "number" && ms === 0) return { error: "must be longer than 0s" };
  return ms;
}

/** A line read and checked, ready to queue; or what is wrong with it, named as OpenAI names it. Pure. */
export function checkLine(text: string, n: number, endpoint: string, seen: Set<string>): { customId: string; model: string; request: string; load: ReturnType<typeof requestFor>["load"] } | LineError {
  const bad = (code: string, message: string, param: string | null = null): LineError => ({ code, message, param, line: n });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return bad("invalid_json_line", "This line is not parseable as valid JSON.");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return bad("invalid_request", "A line must be a JSON object.");
  const line = value as Record<string, unknown>;
  if (typeof line.custom_id !== "string" || line.custom_id === "") return bad("missing_required_parameter", "custom_id is required and must be a non-empty string.", "custom_id");
  if (seen.has(line.custom_id)) return bad("duplicate_custom_id", `The custom_id ${JSON.stringify(line.custom_id.slice(0, 64))} is used by an earlier line; each must be unique.`, "custom_id");
  const field = endpoint === MESSAGES_ENDPOINT ? "params" : "body";
  if (endpoint === MESSAGES_ENDPOINT) {
    if (!MESSAGE_CUSTOM_ID.test(line.custom_id)) return bad("invalid_request", "custom_id must be 1 to 64 letters, digits, _ or -.", "custom_id");
  } else {
    if (line.method !== "POST") return bad("invalid_method", "method must be POST.", "method");
    if (line.url !== endpoint) return bad("mismatched_url", `url must be the batch's endpoint ${endpoint}.`, "url");
  }
  const body = line[field];
  if (body === null || typeof body !== "object" || Array.isArray(body)) return bad("invalid_request", `${field} must be a JSON object.`, field);
  if ((body as Record<string, unknown>).stream === true) return bad("invalid_request", `${field}.stream: a batch line cannot stream.`, `${field}.stream`);
  try {
    const checked = requestFor(endpoint, body);
    seen.add(line.custom_id);
    return { customId: line.custom_id, ...checked };
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return bad("invalid_request", err.message.replace(/^\/request/, field), err.field ? err.field.replace(/^\/request/, field).replaceAll("/", ".") : field);
  }
}

/** What the output or error file says of one ended line. Pure. */
export function resultLine(line: BatchLine, artifact: string | null, ending: "expired" | "cancelled" | null): { file: "output" | "error"; text: string } {
  const head = { id: `batch_req_${line.jobId}`, custom_id: line.customId };
  if (line.status === "done") return { file: "output", text: JSON.stringify({ ...head, response: { status_code: 200, request_id: line.jobId, body: artifact === null ? null : JSON.parse(artifact) }, error: null }) };
  const status = line.error?.status ?? 0;
  if (line.status === "failed" && status >= 400) {
    return { file: "error", text: JSON.stringify({ ...head, response: { status_code: status, request_id: line.jobId, body: { error: line.error!.message } }, error: null }) };
  }
  const code = line.status === "canceled" ? (ending === "expired" ? "batch_expired" : "batch_cancelled") : "request_failed";
  const message = line.status === "canceled" ? (ending === "expired" ? "This line was not run before the batch's completion window ended." : "The batch was cancelled before this line ran.") : (line.error?.message ?? "the request failed");
  return { file: "error", text: JSON.stringify({ ...head, response: null, error: { code, message } }) };
}

/** What a message batch's results say of one ended line (Anthropic's result types). Pure. */
export function messageResultLine(line: BatchLine, artifact: string | null, ending: "expired" | "cancelled" | null): string {
  const result = (r: unknown) => JSON.stringify({ custom_id: line.customId, result: r });
  if (line.status === "done") return result({ type: "succeeded", message: artifact === null ? null : JSON.parse(artifact) });
  if (line.status === "canceled") return result({ type: ending === "expired" ? "expired" : "canceled" });
  const status = line.error?.status ?? 500;
  return result({ type: "errored", error: { type: "error", error: { type: anthropicErrorType(status), message: line.error?.message ?? "the request failed" }, request_id: line.jobId } });
}

/** A line's result for the batch's dialect: all of a message batch's lines go to its one results file. Pure. */
export function batchResult(endpoint: string, line: BatchLine, artifact: string | null, ending: "expired" | "cancelled" | null): { file: "output" | "error"; text: string } {
  return endpoint === MESSAGES_ENDPOINT ? { file: "output", text: messageResultLine(line, artifact, ending) } : resultLine(line, artifact, ending);
}

/** Whether a batch's lines are on the queue: its validation queued them (an input without lines fails), though none may have started yet. */
const queued = (b: BatchRecord): boolean => b.total > 0;

const seconds = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));

/** A batch as OpenAI's Batch object; counts live from its lines until it has ended. */
export function batchObject(b: BatchRecord, live?: { total: number; completed: number; failed: number }) {
  // an ended batch's failed lines are those that did not complete (errored, cancelled or expired)
  const counts = live ?? { total: b.total, completed: b.completed, failed: b.total - b.completed };
  const usage: BatchUsage | null = b.usage;
  return {
    id: b.id,
    object: "batch" as const,
    endpoint: b.endpoint,
    input_file_id: b.inputFileId,
    completion_window: b.completionWindow,
    status: b.status,
    output_file_id: b.outputFileId,
    error_file_id: b.errorFileId,
    errors: b.errors === null ? null : { object: "list" as const, data: b.errors },
    created_at: seconds(b.createdAt)!,
    in_progress_at: seconds(b.inProgressAt),
    expires_at: seconds(b.expiresAt),
    finalizing_at: seconds(b.finalizingAt),
    completed_at: seconds(b.completedAt),
    failed_at: seconds(b.failedAt),
    expired_at: seconds(b.expiredAt),
    cancelling_at: seconds(b.cancellingAt),
    cancelled_at: seconds(b.cancelledAt),
    request_counts: counts,
    metadata: b.metadata,
    model: b.model,
    usage:
      usage === null
        ? null
        : { input_tokens: usage.input_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: usage.output_tokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.input_tokens + usage.output_tokens },
  };
}

const rfc3339 = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * A message batch as Anthropic's MessageBatch. In progress, every line counts as processing (the
 * four end counts stay 0 until the batch has ended, as Anthropic's do); `total` is its request count.
 */
export function messageBatchObject(b: BatchRecord, total: number, origin: string) {
  const ended = batchEnded(b.status);
  const endedAt = b.completedAt ?? b.expiredAt ?? b.cancelledAt ?? b.failedAt;
  const unfinished = total - b.completed - b.failed;
  return {
    id: b.id,
    type: "message_batch" as const,
    processing_status: ended ? ("ended" as const) : b.status === "cancelling" ? ("canceling" as const) : ("in_progress" as const),
    request_counts: ended
      ? { processing: 0, succeeded: b.completed, errored: b.failed, canceled: b.expiredAt === null ? unfinished : 0, expired: b.expiredAt === null ? 0 : unfinished }
      : { processing: total, succeeded: 0, errored: 0, canceled: 0, expired: 0 },
    created_at: rfc3339(b.createdAt)!,
    expires_at: rfc3339(b.expiresAt)!,
    ended_at: ended ? rfc3339(endedAt) : null,
    cancel_initiated_at: rfc3339(b.cancellingAt),
    archived_at: null,
    results_url: ended ? `${origin}/v1/messages/batches/${b.id}/results` : null,
  };
}

export class BatchRunner {
  /** Batches whose end is being written, so two line endings do not finalize one twice. */
  private readonly finalizing = new Set<string>();
  /** Batches whose lines ended and that settle at the next turn of the event loop. */
  private readonly toSettle = new Set<string>();
  /** Batches being validated and queued, so that no two passes queue one. */
  private readonly validating = new Set<string>();
  /** Finalizings that failed: how often in a row, and the timer of the next try. */
  private readonly retries = new Map<string, { failures: number; timer: ReturnType<typeof setTimeout> }>();
  private stopped = false;

  constructor(
    private readonly queue: Queue,
    /** The batch rows (the retention sweep removes the ended ones left without files). */
    readonly batches: Batches,
    private readonly files: Files,
    private readonly worker: Worker,
    private readonly log: Logger,
    /** The webhook a batch's lines are enqueued with: none unless the batch asked (ADR 0043). */
    private readonly lineWebhook: (batch: BatchRecord) => WebhookTarget | undefined,
  ) {}

  /** Follows line endings, and resumes the batches a stopped foreman left open. */
  start(): void {
    // a line's result is read when its batch finalizes: job retention waits for that
    this.queue.addDependents({ holds: (jobId) => this.batches.holdsLine(jobId), remove: () => {} });
    this.queue.onCommitted((job, event) => {
      const batchId = job.batchId;
      if (batchId === null || !(isTerminal(event.type) || event.type === "loading" || event.type === "working")) return;
      if (isTerminal(event.type)) this.settleSoon(batchId);
      else queueMicrotask(() => this.lineTaken(batchId, event.at));
    });
    for (const b of this.batches.open()) setImmediate(() => (b.status === "validating" && !queued(b) ? this.validate(b.id) : this.settle(b.id)));
  }

  /**
   * Settles the batch once the endings committed together have all been heard: a cancel that
   * ends 50,000 lines in one commit counts them once, not once per line.
   */
  private settleSoon(id: string): void {
    if (this.toSettle.has(id)) return;
    this.toSettle.add(id);
    setImmediate(() => {
      this.toSettle.delete(id);
      this.settle(id);
    });
  }

  stop(): void {
    this.stopped = true;
    for (const { timer } of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }

  /** A new batch, validating; its validation runs after the reply. */
  async create(input: { endpoint: string; inputFileId: string; completionWindow: string; windowMs: number; metadata: Record<string, string> | null; outputExpiresAfter?: number | null }): Promise<BatchRecord> {
    return this.begin(this.queue.atomically(() => this.batches.create(input)));
  }

  /** A message batch: its requests, on disk, recorded with the batch in one commit — never a requests file without its batch. */
  async createMessageBatch(requests: WrittenFile, windowMs: number): Promise<BatchRecord> {
    const batch = this.files.recordOrDiscard(requests, () =>
      this.queue.atomically(() => {
        const file = this.files.record(requests, MESSAGE_BATCH_PURPOSE, "requests.jsonl");
        return this.batches.create({ endpoint: MESSAGES_ENDPOINT, inputFileId: file.id, completionWindow: "24h", windowMs, metadata: null });
      }),
    );
    return this.begin(batch);
  }

  /** Once the new batch is durable: its validation runs after the reply. */
  private async begin(batch: BatchRecord): Promise<BatchRecord> {
    await this.queue.settled();
    setImmediate(() => void this.validate(batch.id));
    return batch;
  }

  get(id: string): BatchRecord | null {
    return this.batches.get(id);
  }

  list(page: Parameters<Batches["list"]>[0]) {
    return this.batches.list(page);
  }

  /**
   * The batch with its counts as its lines stand now. An ended batch's are recorded; a batch
   * still queueing counts none; once its lines are queued they are counted live, also while it
   * is still `validating` (no line taken yet), where the recorded ones would read every line failed.
   */
  view(b: BatchRecord) {
    if (batchEnded(b.status) || (b.status === "validating" && !queued(b))) return batchObject(b);
    const c = this.batches.counts(b.id);
    return batchObject(b, { total: c.total, completed: c.done, failed: c.failed });
  }

  /** The message batch as Anthropic's MessageBatch; `origin` makes its results_url. */
  messageView(b: BatchRecord, origin: string) {
    const total = b.status === "validating" ? (this.files.get(b.inputFileId)?.lines ?? 0) : b.total;
    return messageBatchObject(b, total, origin);
  }

  /** Removes an ended message batch and its files; a batch still running is Anthropic's 400. */
  async delete(id: string): Promise<void> {
    const b = this.batches.get(id)!;
    if (!batchEnded(b.status)) throw new HttpError(400, `Batch ${id} cannot be deleted while it is still processing. Cancel it first, then delete it once it has ended.`);
    const fileIds = [b.inputFileId, b.outputFileId, b.errorFileId].filter((f): f is string => f !== null);
    this.queue.atomically(() => {
      this.batches.delete(id);
      for (const f of fileIds) this.files.delete(f);
    });
    await this.queue.settled();
    for (const f of fileIds) this.files.discard(f);
  }

  /** What /status shows: batches by status, the lines of those not ended by state, and the progress of the batch whose line `onTarget` is. */
  status(onTarget: string | undefined) {
    const { byStatus, lines } = this.batches.summary();
    const id = onTarget === undefined ? null : this.batches.batchOf(onTarget);
    const b = id === null ? null : this.batches.get(id);
    const c = b && this.batches.counts(b.id);
    return {
      by_status: byStatus,
      lines: Object.fromEntries(JOB_STATES.map((state) => [state, lines[state] ?? 0])),
      running: b && c && { id: b.id, status: b.status, model: b.model, total: c.total, completed: c.done, failed: c.failed + c.canceled, unfinished: c.unfinished },
    };
  }

  /** Cancels: queued lines at once, a running one aborted; the batch ends when its last line has. */
  async cancel(id: string): Promise<BatchRecord> {
    const b = this.batches.get(id)!;
    if (batchEnded(b.status) || b.status === "cancelling" || b.status === "finalizing") throw new HttpError(409, `Cannot cancel a batch with status ${b.status}.`, undefined, { "x-should-retry": "false" });
    const now = Date.now();
    const running = this.queue.atomically(() => {
      // lines still being queued were never runnable: none of them is queued after all (ADR 0041)
      if (b.status === "validating") this.queue.dropHeld(id);
      this.batches.update(id, { status: "cancelling", cancelling_at: now });
      for (const jobId of this.batches.lineIds(id, ["queued"])) this.queue.cancel(jobId, "batch cancelled");
      return this.batches.lineIds(id, ["loading", "working"]);
    });
    await this.queue.settled();
    for (const jobId of running) this.worker.cancelRunning(jobId, "batch cancelled");
    const after = this.batches.get(id)!;
    setImmediate(() => this.settle(id));
    return after;
  }

  /**
   * Checks every line, then queues them: a chunk per transaction, held out of the scheduler,
   * then one commit that makes them all runnable (ADR 0041). A restart continues after the
   * lines already held (they are in file order); a cancel in between drops them.
   */
  private async validate(id: string): Promise<void> {
    if (this.stopped || this.validating.has(id)) return;
    const b = this.batches.get(id);
    if (!b || b.status !== "validating" || queued(b)) return;
    this.validating.add(id);
    try {
      const path = this.files.path(b.inputFileId);
      const decoder = new TextDecoder();
      const errors: LineError[] = [];
      let bad = 0;
      let lines = 0;
      const models = new Set<string>();
      const seen = new Set<string>();
      for (const [bytes, n] of fileLines(path)) {
        lines++;
        const checked = checkLine(decoder.decode(bytes), n, b.endpoint, seen);
        if ("code" in checked) {
          bad++;
          if (errors.length < MAX_LINE_ERRORS) errors.push(checked);
        } else models.add(checked.model);
        if (n % CHUNK_LINES === 0) await this.turn();
      }
      const now = Date.now();
      if (lines === 0) errors.push({ code: "empty_file", message: "The input file has no lines.", param: null, line: null });
      if (bad > MAX_LINE_ERRORS) errors.push({ code: "too_many_errors", message: `${bad - MAX_LINE_ERRORS} more lines are invalid.`, param: null, line: null });
      if (errors.length > 0) {
        this.queue.atomically(() => this.batches.update(id, { status: "failed", errors: JSON.stringify(errors), failed_at: now }));
        return;
      }
      // the second pass queues, held, after the lines a stopped foreman already queued
      const before = this.batches.counts(id).total;
      seen.clear();
      let chunk: Exclude<ReturnType<typeof checkLine>, LineError>[] = [];
      const hold = (): boolean =>
        this.queue.atomically(() => {
          // a cancel came between two chunks: queue no more
          if (this.batches.get(id)?.status !== "validating") return false;
          for (const line of chunk) {
            const job = this.queue.enqueue({ lane: ASYNC, endpoint: b.endpoint, model: line.model, priority: BATCH_PRIORITY, request: line.request, load: line.load, startBy: b.expiresAt, metadata: { batch_id: id, custom_id: line.customId }, webhook: this.lineWebhook(b), held: true });
            this.batches.attach(job.id, id, line.customId);
          }
          chunk = [];
          return true;
        });
      for (const [bytes, n] of fileLines(path)) {
        const line = checkLine(decoder.decode(bytes), n, b.endpoint, seen);
        if ("code" in line) throw new Error(`line ${n} of ${b.inputFileId} changed between the passes`);
        if (n <= before) continue;
        chunk.push(line);
        if (chunk.length < CHUNK_LINES) continue;
        if (!hold()) return;
        await this.turn();
      }
      if (chunk.length > 0 && !hold()) return;
      // the one durable step: every line runnable at once, the batch's total with them;
      // still validating until the worker takes a line (lineTaken)
      this.queue.atomically(() => {
        if (this.batches.get(id)?.status !== "validating") return;
        this.queue.releaseHeld(id);
        this.batches.update(id, { total: lines, model: models.size === 1 ? [...models][0]! : null });
      });
    } catch (err) {
      if (err instanceof Stopped) return;
      this.log.error("batch validation failed", { batch: id, error: (err as Error).message });
      const now = Date.now();
      try {
        this.queue.atomically(() => {
          this.queue.dropHeld(id);
          this.batches.update(id, { status: "failed", errors: JSON.stringify([{ code: "server_error", message: "foreman could not read the input file or queue its lines", param: null, line: null }]), failed_at: now });
        });
      } catch (again) {
        // the database refuses this too: the batch stays validating, and the next start validates it again
        this.log.error("batch validation failed and could not be recorded", { batch: id, error: (again as Error).message });
      }
    } finally {
      this.validating.delete(id);
    }
  }

  /** A turn of the event loop between two chunks; a stopping service leaves off there. */
  private async turn(): Promise<void> {
    await turn();
    if (this.stopped) throw new Stopped();
  }

  /** A line's first step on the target: a queued batch is in progress from then, as OpenAI's is when it starts work. */
  private lineTaken(id: string, at: number): void {
    if (this.stopped) return;
    const b = this.batches.get(id);
    if (!b || b.status !== "validating" || !queued(b)) return;
    this.queue.atomically(() => this.batches.update(id, { status: "in_progress", in_progress_at: at }));
  }

  /** When every line has ended: the result files, then the batch's end; tried again while that fails. */
  private settle(id: string): void {
    if (this.stopped || this.finalizing.has(id)) return;
    const b = this.batches.get(id);
    if (!b || !((b.status === "validating" && queued(b)) || b.status === "in_progress" || b.status === "cancelling" || b.status === "finalizing")) return;
    if (this.batches.hasUnfinished(id)) return;
    this.finalizing.add(id);
    const retry = this.retries.get(id);
    clearTimeout(retry?.timer);
    this.finalize(b).then(
      () => {
        this.finalizing.delete(id);
        this.retries.delete(id);
      },
      (err: Error) => {
        this.finalizing.delete(id);
        if (err instanceof Stopped || this.stopped) return;
        const failures = (retry?.failures ?? 0) + 1;
        const delayMs = finalizeRetryMs(failures);
        // a full disk, most often: the batch stays finalizing, nothing half-written is recorded
        this.log.error("batch finalizing failed; trying again", { batch: id, error: err.message, retry_in_ms: delayMs, failures });
        this.retries.set(id, { failures, timer: setTimeout(() => this.settle(id), delayMs) });
      },
    );
  }

  /**
   * Writes the output and error files a page of lines at a time, letting the event loop run
   * between pages (the batch reads `finalizing` meanwhile), then records them and ends the batch
   * in one commit. Until that commit nothing is recorded: a failure leaves no file behind.
   */
  private async finalize(b: BatchRecord): Promise<void> {
    const now = Date.now();
    if (b.status !== "finalizing") this.queue.atomically(() => this.batches.update(b.id, { status: "finalizing", finalizing_at: now }));
    const ending = b.cancellingAt !== null ? "cancelled" : null;
    const counts = this.batches.counts(b.id);
    // a line canceled that the batch did not cancel was expired by its start_by
    const expired = ending === null && counts.canceled > 0;
    const output = this.files.writer();
    const error = this.files.writer();
    const usage: BatchUsage = { input_tokens: 0, output_tokens: 0 };
    const written: WrittenFile[] = [];
    try {
      const encoder = new TextEncoder();
      const decoder = new TextDecoder();
      const texts = { output: "", error: "" };
      // what is buffered goes to the files, then the event loop runs: at most a page of lines or RESULT_FLUSH_CHARS of results between two turns
      const flush = async () => {
        if (texts.output !== "") output.write(encoder.encode(texts.output));
        if (texts.error !== "") error.write(encoder.encode(texts.error));
        texts.output = texts.error = "";
        await this.turn();
      };
      for (let after = 0; ; ) {
        const page = this.batches.linesAfter(b.id, after, CHUNK_LINES);
        if (page.length === 0) break;
        for (const line of page) {
          const artifact = line.status === "done" ? this.queue.artifact(line.jobId) : null;
          const result = batchResult(b.endpoint, line, artifact === null ? null : decoder.decode(artifact.body), expired ? "expired" : ending);
          texts[result.file] += `${result.text}\n`;
          if (line.usage) {
            usage.input_tokens += line.usage.prompt_tokens;
            usage.output_tokens += line.usage.output_tokens;
          }
          if (texts.output.length + texts.error.length >= RESULT_FLUSH_CHARS) await flush();
        }
        await flush();
        after = page.at(-1)!.seq;
      }
      const out = output.bytes > 0 ? output.finish() : null;
      if (out) written.push(out);
      const err = error.bytes > 0 ? error.finish() : null;
      if (err) written.push(err);
      if (!out) output.abandon();
      if (!err) error.abandon();
      const status = ending ?? (expired ? "expired" : "completed");
      const end = Date.now();
      this.queue.atomically(() => {
        const keep = b.outputExpiresAfter ?? undefined;
        // a message batch's results are its own, not an OpenAI file
        const outId = out ? this.files.record(out, b.endpoint === MESSAGES_ENDPOINT ? MESSAGE_BATCH_PURPOSE : "batch_output", `${b.id}_output.jsonl`, end, keep).id : null;
        const errId = err ? this.files.record(err, "batch_output", `${b.id}_error.jsonl`, end, keep).id : null;
        this.batches.update(b.id, {
          status,
          output_file_id: outId,
          error_file_id: errId,
          usage: JSON.stringify(usage),
          total: counts.total,
          completed: counts.done,
          failed: counts.failed,
          ...(status === "completed" ? { completed_at: end } : status === "expired" ? { expired_at: end } : { cancelled_at: end }),
        });
      });
    } catch (e) {
      output.abandon();
      error.abandon();
      // renamed into place but never recorded (the commit failed): gone too
      for (const f of written) this.files.discard(f.id);
      throw e;
    }
  }
}
