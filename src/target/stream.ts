// Reading a reply body from the target with an idle deadline. A reply that goes silent for
// longer than `idleMs` ends with TargetTimeout, a broken connection with TargetDropped, and
// the caller's abort with its reason. The passthrough relay (which hands each chunk to a
// waiting client) and async jobs (which fold the reply into an artifact) read through this one
// reader, so a silent or broken target means the same thing to both.
import { networkReason, TargetDropped, TargetTimeout } from "./errors.ts";

const readerOf = (body: ReadableStream<Uint8Array>) => body.getReader();
type Reader = ReturnType<typeof readerOf>;

export class IdleReader {
  private readonly reader: Reader;
  private readonly timer: ReturnType<typeof setTimeout>;
  private idle = false;
  private closed = false;
  private readonly onAbort = () => this.cancel(this.signal?.reason);

  constructor(
    body: ReadableStream<Uint8Array>,
    readonly idleMs: number,
    private readonly signal?: AbortSignal,
  ) {
    this.reader = readerOf(body);
    // one timer, pushed back on every chunk; when it fires the pending read ends
    this.timer = setTimeout(() => {
      this.idle = true;
      this.cancel();
    }, idleMs);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  /** The next chunk, or null at the end of the body. */
  async next(): Promise<Uint8Array | null> {
    let result: Awaited<ReturnType<Reader["read"]>>;
    try {
      result = await this.reader.read();
    } catch (err) {
      this.cancel();
      throw this.whyEnded() ?? new TargetDropped(`the target dropped the connection mid-stream: ${networkReason(err)}`);
    }
    const why = this.whyEnded();
    if (why) {
      this.cancel();
      throw why;
    }
    if (result.done) {
      this.cancel();
      return null;
    }
    this.timer.refresh();
    return result.value;
  }

  /** Stops reading and releases the connection; safe to call more than once. */
  cancel(reason?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener("abort", this.onAbort);
    this.reader.cancel(reason).catch(() => {});
  }

  private whyEnded(): unknown {
    if (this.signal?.aborted) return this.signal.reason;
    if (this.idle) return new TargetTimeout(`the target went silent for ${this.idleMs} ms mid-stream`);
    return undefined;
  }
}

/** Reads a whole body through an IdleReader, handing each chunk to `onChunk`. */
export async function readAll(body: ReadableStream<Uint8Array>, idleMs: number, onChunk: (chunk: Uint8Array) => void, signal?: AbortSignal): Promise<void> {
  const reader = new IdleReader(body, idleMs, signal);
  try {
    for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) onChunk(chunk);
  } finally {
    reader.cancel();
  }
}

/**
 * `body` passed on as it is read, with no read-ahead, `onChunk` told of each chunk taken. If
 * reading fails, the stream errors with no reason: as a reply body that cuts the caller's
 * connection off (no terminating chunk), and Bun prints nothing — it prints a reason to stderr,
 * outside foreman's log.
 */
export function passOn(body: ReadableStream<Uint8Array>, onChunk?: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: Awaited<ReturnType<Reader["read"]>>;
        try {
          result = await reader.read();
        } catch {
          return controller.error();
        }
        if (result.done) return controller.close();
        onChunk?.();
        controller.enqueue(result.value);
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}
