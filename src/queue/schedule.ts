// When a job may start, until when it may start, and how long one attempt may run (ADR 0035):
// reading `run_after`, `start_by` and `max_run` from a submission into times and a cap, and
// writing a cap back as the Go duration it was given as. Pure: the clock comes in as `now`.
import { parseGoDuration } from "../ollama/go-duration.ts";

/** The furthest ahead a job may be scheduled: a year, so every time fits a timer and a retention window. */
export const MAX_HORIZON_MS = 366 * 86_400_000;

/** The longest delay a timer takes (setTimeout fires at once past 2^31-1 ms); a timer set for later looks again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The delay of a timer that should fire at `at`: never negative, never past what a timer takes. */
export const delayUntil = (at: number, now: number): number => Math.min(MAX_TIMER_MS, Math.max(0, at - now));

/** RFC 3339 date-time (`2026-12-07T09:00:00Z`, an offset instead of Z, fractional seconds allowed). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A submitted time: an RFC 3339 date-time, or a Go duration from `now` ("2h", "90m"). Returns ms, or what is wrong. */
export function parseWhen(text: string, now: number): number | { error: string } {
  if (RFC3339.test(text)) {
    const at = Date.parse(text);
    return Number.isNaN(at) ? { error: `${JSON.stringify(text)} is not a valid date-time` } : at;
  }
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch {
    return { error: `expected an RFC 3339 date-time (2026-12-07T09:00:00Z) or a duration from now (2h, 90m), not ${JSON.stringify(text)}` };
  }
  if (ms < 0) return { error: `a duration from now cannot be negative (${JSON.stringify(text)})` };
  return now + Math.ceil(ms);
}

/** A run-time cap: a Go duration (0 = no cap). Returns ms, or what is wrong. */
export function parseMaxRun(text: string): number | { error: string } {
  let ms: number;
  try {
    ms = parseGoDuration(text);
  } catch (err) {
    return { error: `expected a duration such as 10m or 1h30m (${(err as Error).message})` };
  }
  if (ms < 0) return { error: `cannot be negative (${JSON.stringify(text)})` };
  if (ms > MAX_HORIZON_MS) return { error: "at most a year (8784h)" };
  return Math.ceil(ms);
}

export interface ScheduleInput {
  run_after?: string;
  start_by?: string;
  max_run?: string;
}

/** What a submission asks for, in ms; null where it asks nothing. `notBefore` is null when the job may start now. */
export interface Schedule {
  runAfter: number | null;
  startBy: number | null;
  notBefore: number | null;
  maxRunMs: number | null;
}

/** The submission's schedule, or the field that is wrong and why (the edge makes it a 400). */
export function scheduleOf(input: ScheduleInput, now: number): Schedule | { field: string; error: string } {
  const read = (field: "run_after" | "start_by"): number | null | { field: string; error: string } => {
    const text = input[field];
    if (text === undefined) return null;
    const at = parseWhen(text, now);
    if (typeof at !== "number") return { field: `/${field}`, error: at.error };
    if (at > now + MAX_HORIZON_MS) return { field: `/${field}`, error: "more than a year ahead" };
    return at;
  };
  const runAfter = read("run_after");
  if (runAfter !== null && typeof runAfter !== "number") return runAfter;
  const startBy = read("start_by");
  if (startBy !== null && typeof startBy !== "number") return startBy;
  if (startBy !== null && startBy <= now) return { field: "/start_by", error: `${new Date(startBy).toISOString()} has already passed` };
  if (startBy !== null && runAfter !== null && startBy <= runAfter) return { field: "/start_by", error: "must be after run_after, or the job could never start" };
  let maxRunMs: number | null = null;
  if (input.max_run !== undefined) {
    const cap = parseMaxRun(input.max_run);
    if (typeof cap !== "number") return { field: "/max_run", error: cap.error };
    maxRunMs = cap;
  }
  return { runAfter, startBy, notBefore: runAfter !== null && runAfter > now ? runAfter : null, maxRunMs };
}

/** The run-time cap an attempt gets: the job's own, else the lane's default; 0 or null: none. */
export function runCapMs(own: number | null, laneDefault: number): number | null {
  const cap = own ?? laneDefault;
  return cap > 0 ? cap : null;
}

/** A cap in ms as Go's time.Duration prints it ("10m0s", "1h30m0s", "1.5s", "250ms"). */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${String((ms % 60_000) / 1000)}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  if (m > 0) return `${m}m${s}`;
  return s;
}
