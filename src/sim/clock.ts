// Time in the forms Ollama writes it (RFC3339 with trimmed nanoseconds, UTC
// `Z` for generation, local offset for tags/ps) and abortable waiting.

import { ClientGone } from "./errors.ts";

function fraction(ms: number): string {
  const frac = String(Math.floor(ms % 1000)).padStart(3, "0").replace(/0+$/, "");
  return frac === "" ? "" : `.${frac}`;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/** RFC3339Nano in UTC, e.g. `2026-01-01T10:00:00.1234Z`. */
export function utcStamp(ms: number = Date.now()): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, `${fraction(ms)}Z`);
}

/** RFC3339Nano in server-local time with its offset, e.g. `…-07:00`. */
export function localStamp(ms: number): string {
  const d = new Date(ms);
  const offsetMin = -d.getTimezoneOffset();
  const sign = offsetMin >= 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  const date = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date}T${time}${fraction(ms)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Go saturates now + forever at roughly 292 years ahead. */
export const FOREVER_MS = Date.UTC(2318, 3, 11, 23, 47, 16);

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
