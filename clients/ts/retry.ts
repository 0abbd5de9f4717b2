// Waiting and retrying for the client: exponential back-off, a sleep that honours an abort
// signal, and one loop that retries what is worth retrying (a connection that failed, a
// proxy's 502/503/504, 429) until a deadline. Used by run() and the event stream.
import { ForemanConnectionError, ForemanHttpError } from "./errors.ts";

const BASE_MS = 200;
const CAP_MS = 5000;

/** Pure: the pause before retry number `n` (0-based). */
export function backoffMs(n: number): number {
  return Math.min(CAP_MS, BASE_MS * 2 ** Math.min(n, 16));
}

/** Pure: whether an error is transient, i.e. the same request may succeed later. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ForemanConnectionError) return true;
  return err instanceof ForemanHttpError && [429, 502, 503, 504].includes(err.status);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export const TIMED_OUT = Symbol("timed out");

/**
 * Calls `attempt` until it succeeds, retrying transient errors with back-off. Each attempt
 * gets a signal that aborts on the caller's signal or at `deadline` (epoch ms; Infinity =
 * none). Returns TIMED_OUT once the deadline has passed; other errors are thrown as they are.
 * `lastError` receives the most recent transient error, for the caller's message.
 */
export async function retrying<T>(attempt: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined, deadline: number, lastError?: (err: unknown) => void): Promise<T | typeof TIMED_OUT> {
  for (let n = 0; ; n++) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return TIMED_OUT;
    const bounded = remaining === Infinity ? signal : anySignal(signal, AbortSignal.timeout(remaining));
    try {
      return await attempt(bounded);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (bounded?.aborted || Date.now() >= deadline) return TIMED_OUT;
      if (!isTransient(err)) throw err;
      lastError?.(err);
    }
    await sleep(Math.min(backoffMs(n), Math.max(0, deadline - Date.now())), signal);
  }
}

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}
