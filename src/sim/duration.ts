// keep_alive decoding as Ollama's api.Duration does it: numbers are seconds,
// strings are Go durations, negatives mean forever. Pure, so tested directly.

import { SimError } from "./errors.ts";
import { parseGoDuration } from "../ollama/go-duration.ts";
import { jsonKind } from "../ollama/go-json.ts";

/** Milliseconds; Infinity = keep forever; undefined = not set (sticky). */
export type KeepAlive = number | undefined;

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
