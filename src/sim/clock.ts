// Time in the forms Ollama writes it (RFC3339 with trimmed nanoseconds, UTC
// `Z` for generation, local offset for tags/ps), a nanosecond wall clock, and
// abortable waiting.

import { ClientGone } from "./errors.ts";

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

const WALL_AT_START = BigInt(Date.now()) * 1_000_000n;
const HR_AT_START = process.hrtime.bigint();

/** Wall-clock time in nanoseconds, as Go's time.Now() carries it. */
export const nowNs = (): bigint => WALL_AT_START + (process.hrtime.bigint() - HR_AT_START);

export const msToNs = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/** time.Duration(math.MaxInt64): what a negative keep_alive becomes (about 292 years). */
export const FOREVER_NS = 9_223_372_036_854_775_807n;

/** Go's RFC3339Nano: trailing zeros of the fraction trimmed, `Z` for a zero offset. */
function rfc3339Nano(ns: bigint, offsetMinutes: number): string {
  const d = new Date(Number(ns / 1_000_000n) + offsetMinutes * 60_000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? "Z" : `${offsetMinutes > 0 ? "+" : "-"}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
  return `${date}T${time}${fraction === "" ? "" : `.${fraction}`}${zone}`;
}

/** A generation timestamp (`created_at`): UTC, e.g. `2026-01-01T10:00:00.123456789Z`. */
export const utcStamp = (ns: bigint = nowNs()): string => rfc3339Nano(ns, 0);

/** `modified_at` / `expires_at`: server-local time with its offset (`Z` when that is UTC). */
export const localStamp = (ns: bigint): string => rfc3339Nano(ns, -new Date(Number(ns / 1_000_000n)).getTimezoneOffset());

/** Waits `ms`, rejecting with ClientGone as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new ClientGone());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ClientGone());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves with `promise`, or rejects with ClientGone when `signal` aborts first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new ClientGone());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new ClientGone());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
