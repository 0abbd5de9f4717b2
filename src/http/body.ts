// Request bodies, as the edge reads them. A body foreman must parse (inference, /jobs) is read
// whole, into one buffer, bounded in size (FOREMAN_MAX_BODY_BYTES), in time
// (FOREMAN_BODY_TIMEOUT_MS) and, with every other body read whole, in memory
// (FOREMAN_BODY_BUDGET_BYTES: body-budget.ts, ADR 0029); a body
// foreman only forwards (blob uploads, model management) streams on to the target unbuffered,
// under the same deadline, and past that size may only not pause longer than it; a multipart
// upload foreman must queue is spooled to disk under readBody's bounds; a batch upload (a file,
// a message batch) streams to disk and may only not pause longer than it (ADR 0042). The server
// never times a connection out itself (replies and queue waits are long), so the body deadline
// is ours to keep (ADR 0018).
import { open } from "node:fs/promises";
import { HttpError } from "../contract/http-error.ts";
import { checkParsedBody } from "../schema/depth.ts";
import type { BodyBudget } from "./body-budget.ts";
import { collectAfter } from "../ops/collect.ts";

export interface BodyLimits {
  maxBodyBytes: number;
  bodyTimeoutMs: number;
}

/** Requests whose body was read to its end, by `readBody` or by the target through `streamBody`. */
const readToEnd = new WeakSet<Request>();

/**
 * Whether a request came with a body that was not read to its end (answered before it: a 401,
 * a 404, an error). Its reply must close the connection, or the server would go on reading a
 * body nobody wants, as slowly as the client likes.
 */
export function bodyUnread(request: Request): boolean {
  const length = request.headers.get("content-length");
  const declared = (length !== null && length !== "0") || request.headers.has("transfer-encoding");
  return declared && !readToEnd.has(request);
}

/** 408; the body is then unread, so the connection closes with the reply. */
const tooSlow = (what: string) => new HttpError(408, `${what}; send the request body faster or raise FOREMAN_BODY_TIMEOUT_MS`);

/** What a request's body holds of the budget, given back by `releaseBody` once its handler has answered. */
const held = new WeakMap<Request, { budget: BodyBudget; bytes: number }>();

/** A body read whole holds its share of the budget until this is called (the edge calls it for every request). */
export function releaseBody(request: Request): void {
  const share = held.get(request);
  if (!share) return;
  held.delete(request);
  share.budget.give(share.bytes);
  collectAfter(share.bytes);
}

/** Takes `bytes` more of the budget for `request`, waiting for room until `deadline`; 503 when it passes first. */
async function reserve(request: Request, budget: BodyBudget, bytes: number, deadline: Promise<never>): Promise<void> {
  if (!(await budget.take(bytes, deadline))) {
    throw new HttpError(503, `foreman is holding ${budget.used} bytes of other request bodies, its limit (FOREMAN_BODY_BUDGET_BYTES=${budget.budget}); try again shortly`, undefined, { "retry-after": "1" });
  }
  const share = held.get(request);
  if (share) share.bytes += bytes;
  else held.set(request, { budget, bytes });
}

/** A body without a declared length starts with this much room, doubled as it grows. */
const FIRST_ROOM = 64 * 1024;

/**
 * Reads a whole body within `bodyTimeoutMs`, up to `maxBodyBytes` (a declared Content-Length
 * over the bound is refused before reading anything), into one buffer taken from `budget`
 * before it is filled: the declared length at once, or room doubled as a body of unknown
 * length grows. Waiting for room counts against the time the body has to arrive.
 */
export async function readBody(request: Request, limits: BodyLimits, budget: BodyBudget): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, `request body is larger than ${limits.maxBodyBytes} bytes`);
  const length = request.headers.get("content-length");
  const declared = length === null ? null : Number(length);
  if ((declared ?? 0) > limits.maxBodyBytes) throw tooLarge();
  if (declared === 0 || (declared === null && !request.headers.has("transfer-encoding"))) return new Uint8Array(0);
  const deadline = Promise.withResolvers<never>();
  deadline.promise.catch(() => {}); // also raced below; a body that arrived in time never sees it
  const timer = setTimeout(() => deadline.reject(tooSlow(`the request body did not arrive within ${limits.bodyTimeoutMs} ms`)), limits.bodyTimeoutMs);
  try {
    // room first: the server reads ahead only once the body is asked for
    const room = declared ?? FIRST_ROOM;
    await reserve(request, budget, room, deadline.promise);
    if (!request.body) return new Uint8Array(0);
    const reader = request.body.getReader();
    try {
      return await fill(reader, new Uint8Array(room));
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err;
    }
  } finally {
    clearTimeout(timer);
  }

  /** Reads to the end into `buffer`, growing it (and the body's share) when a body of unknown length outgrows it. */
  async function fill(reader: { read(): Promise<{ done: true; value?: undefined } | { done: false; value: Uint8Array }> }, buffer: Uint8Array): Promise<Uint8Array> {
    let size = 0;
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline.promise]);
      if (done) {
        readToEnd.add(request);
        collectAfter(size); // the chunks it came in, copied into the buffer
        return buffer.subarray(0, size);
      }
      if (size + value.byteLength > limits.maxBodyBytes) throw tooLarge();
      if (size + value.byteLength > buffer.byteLength) {
        const grown = Math.min(limits.maxBodyBytes, Math.max(2 * buffer.byteLength, size + value.byteLength));
        await reserve(request, budget, grown - buffer.byteLength, deadline.promise);
        const next = new Uint8Array(grown);
        next.set(buffer.subarray(0, size));
        buffer = next;
      }
      buffer.set(value, size);
      size += value.byteLength;
    }
  }
}

/** Reads a JSON body within the limits; malformed, empty, too deeply nested bodies or numbers out of range are 400s, not 500s. */
export async function readJson(request: Request, limits: BodyLimits, budget: BodyBudget): Promise<unknown> {
  const buf = await readBody(request, limits, budget);
  if (buf.byteLength === 0) throw new HttpError(400, "missing request body");
  const value = parseJson(buf);
  // the bytes and their text are garbage now; the parsed value lives until the handler answers
  collectAfter(buf.byteLength);
  return value;
}

function parseJson(buf: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    throw new HttpError(400, "request body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  checkParsedBody(value);
  return value;
}

/**
 * How a streamed body is timed: `deadline`, the rule of `readBody` for the first `maxBodyBytes`
 * and a stall timeout past them; `stall`, a stall timeout from the first byte (a batch upload of
 * hundreds of MB on a slow link legitimately takes minutes: only silence ends it, ADR 0042).
 */
export type BodyPace = "deadline" | "stall";

/** Whether, `size` bytes in, the body's clock restarts with each chunk (it then only may not pause). Pure. */
export const stallOnly = (pace: BodyPace, size: number, maxBodyBytes: number): boolean => pace === "stall" || size > maxBodyBytes;

/**
 * A body passed on as it arrives, never held whole: `stream` goes to the target, and `signal`
 * aborts the upstream request when the client goes away or its body is too slow (the reason is
 * then a 408 HttpError). Too slow is, at the `deadline` pace, the rule of `readBody` for the
 * first `maxBodyBytes` — the JSON bodies of model management arrive in time like any other —
 * and beyond them, for an upload that size (a model blob), a pause longer than `bodyTimeoutMs`;
 * at the `stall` pace, only such a pause.
 */
export function streamBody(request: Request, limits: BodyLimits, pace: BodyPace = "deadline"): { stream: ReadableStream<Uint8Array>; signal: AbortSignal } | null {
  if (!request.body) return null;
  const slow = new AbortController();
  const reader = request.body.getReader();
  let size = 0;
  const timer = setTimeout(() => {
    const reason = tooSlow(stallOnly(pace, size, limits.maxBodyBytes) ? `the request body stalled for ${limits.bodyTimeoutMs} ms` : `the request body did not arrive within ${limits.bodyTimeoutMs} ms`);
    slow.abort(reason);
    reader.cancel(reason).catch(() => {});
  }, limits.bodyTimeoutMs);
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          // (canceling the reader at the deadline ends a pending read as if the body were done)
          if (slow.signal.aborted) return controller.error(slow.signal.reason);
          if (done) {
            clearTimeout(timer);
            readToEnd.add(request);
            return controller.close();
          }
          size += value.byteLength;
          if (stallOnly(pace, size, limits.maxBodyBytes)) timer.refresh();
          controller.enqueue(value);
        } catch (err) {
          clearTimeout(timer);
          controller.error(err);
        }
      },
      cancel(reason) {
        clearTimeout(timer);
        reader.cancel(reason).catch(() => {});
      },
    },
    // no read-ahead of our own: the client's upload is paced by the target's reading
    { highWaterMark: 0 },
  );
  return { stream, signal: AbortSignal.any([request.signal, slow.signal]) };
}

/** Go's net/http reads this much of a body its handler left unread before it replies (maxPostHandlerReadBytes). */
export const GO_DRAIN_BYTES = 256 * 1024;

/** How long foreman goes on discarding an unwanted body before it answers anyway. */
export const DRAIN_MS = 2000;

/**
 * Before a reply to a request whose body nobody read (a 401, a 404, a 413 over the declared
 * length): reads and discards the body, so a client still sending gets the reply instead of a
 * broken pipe (ADR 0031). Go's server discards 256 KiB before replying and, closing, goes on
 * reading for half a second after; Bun cannot linger after the reply, so foreman discards before
 * it: up to `maxBodyBytes` (what it would read for any inference request) and for at most
 * DRAIN_MS. A body that ends within that counts as read and the connection stays open; past
 * either bound the reply closes it.
 */
export async function drainBody(request: Request, limits: BodyLimits): Promise<void> {
  if (!bodyUnread(request) || !request.body || request.body.locked) return;
  const reader = request.body.getReader();
  const deadline = Promise.withResolvers<"late">();
  const timer = setTimeout(() => deadline.resolve("late"), Math.min(DRAIN_MS, limits.bodyTimeoutMs));
  let size = 0;
  try {
    while (size <= Math.max(limits.maxBodyBytes, GO_DRAIN_BYTES)) {
      const read = await Promise.race([reader.read(), deadline.promise]);
      if (read === "late") break;
      if (read.done) {
        readToEnd.add(request);
        break;
      }
      size += read.value.byteLength;
    }
  } catch {
    // the client went away while sending: nothing left to answer
  } finally {
    clearTimeout(timer);
    reader.cancel().catch(() => {});
  }
}

/**
 * Writes a body to the file `path` as it arrives, never holding it whole (a multipart upload
 * foreman must queue: /v1/audio/transcriptions), under `readBody`'s bounds — `maxBodyBytes`
 * (413) and all of it within `bodyTimeoutMs` (408): the deadline is the upload's, the wait for a
 * turn comes after. `onChunk` sees each chunk on its way to the file. Resolves with the size.
 */
export async function spoolBody(request: Request, limits: BodyLimits, path: string, onChunk: (chunk: Uint8Array) => void): Promise<number> {
  const tooLarge = () => new HttpError(413, `request body is larger than ${limits.maxBodyBytes} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > limits.maxBodyBytes) throw tooLarge();
  const file = await open(path, "w");
  try {
    const upload = streamBody(request, limits);
    if (!upload) return 0;
    const reader = upload.stream.getReader();
    let size = 0;
    for (;;) {
      // (at the deadline this read fails with the 408)
      const { done, value } = await reader.read();
      if (done) return size;
      size += value.byteLength;
      if (size > limits.maxBodyBytes) {
        reader.cancel().catch(() => {});
        throw tooLarge();
      }
      onChunk(value);
      await file.write(value);
    }
  } finally {
    await file.close();
  }
}
