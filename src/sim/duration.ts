// keep_alive decoding as Ollama's api.Duration does it: numbers are seconds,
// strings are Go durations, negatives mean forever. Pure, so tested directly.

import { SimError } from "./errors.ts";
import { jsonKind } from "./body.ts";

/** Milliseconds; Infinity = keep forever; undefined = not set (sticky). */
export type KeepAlive = number | undefined;

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration, returning milliseconds or throwing its error text. */
export function parseGoDuration(text: string): number {
  const quoted = JSON.stringify(text);
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw new Error(`time: invalid duration ${quoted}`);
  let total = 0;
  while (rest !== "") {
    const num = /^(\d*)(\.\d*)?/.exec(rest);
    const digits = num?.[0] ?? "";
    if (digits === "" || digits === ".") throw new Error(`time: invalid duration ${quoted}`);
    rest = rest.slice(digits.length);
    const unit = /^[^\d.]*/.exec(rest)?.[0] ?? "";
    if (unit === "") throw new Error(`time: missing unit in duration ${quoted}`);
    const scale = UNIT_MS[unit];
    if (scale === undefined) throw new Error(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`);
    total += Number(digits) * scale;
    rest = rest.slice(unit.length);
  }
  return sign * total;
}

export function parseKeepAlive(value: unknown): KeepAlive {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value < 0 ? Infinity : value * 1000;
  if (typeof value === "string") {
    try {
      const ms = parseGoDuration(value);
      return ms < 0 ? Infinity : ms;
    } catch (err) {
      throw new SimError(400, (err as Error).message);
    }
  }
  throw new SimError(400, `json: cannot unmarshal ${jsonKind(value)} into Go value of type api.Duration`);
}
