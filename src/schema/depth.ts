// What JSON.parse lets through that a parsed body must not carry. How deep it nests: JSON.parse
// copes with a million levels, but what walks the value again does not — JSON.stringify and
// recursive walks (the idempotency hash, job views) run out of stack near ten thousand, as a
// RangeError that would be a 500. And numbers beyond a 64-bit float (1e999): JSON.parse reads
// them as Infinity, which is stored as null, while Ollama's decoder refuses them (`json: cannot
// unmarshal number 1e999 into Go value of type float64`). Bodies foreman parses are checked
// once, here, so either is a 400 naming the field instead.
import { HttpError } from "../contract/http-error.ts";

/** Far beyond real requests (tool schemas nest a few dozen levels), far below the stack's limit. */
export const MAX_JSON_DEPTH = 1000;

const pointer = (field: string, key: string) => `${field}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;

/**
 * Throws a 400 when `value` nests deeper than `max` levels, naming the field (its first two
 * segments, e.g. /request/options) whose value is too deep, or holds a number out of a 64-bit
 * float's range, naming it whole (/request/options/temperature). Iterative, so it cannot overflow.
 */
export function checkParsedBody(value: unknown, max = MAX_JSON_DEPTH): void {
  if (typeof value === "number" && !Number.isFinite(value)) throw outOfRange("");
  const pending: { value: unknown; depth: number; path: string; field: string }[] = [{ value, depth: 0, path: "", field: "" }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.value === null || typeof next.value !== "object") continue;
    const depth = next.depth + 1;
    if (depth > max) throw new HttpError(400, `${next.field || "body"}: nested deeper than ${max} levels`, next.field || undefined);
    for (const [key, child] of Object.entries(next.value)) {
      if (typeof child === "number" && !Number.isFinite(child)) throw outOfRange(pointer(next.path, key));
      if (child === null || typeof child !== "object") continue;
      const path = pointer(next.path, key);
      pending.push({ value: child, depth, path, field: depth <= 2 ? path : next.field });
    }
  }
}

const outOfRange = (path: string) => new HttpError(400, `${path || "body"}: number out of range (json: cannot unmarshal number into Go value of type float64)`, path || undefined);
