// How deep a parsed JSON body nests. JSON.parse copes with a million levels, but what walks the
// value again does not: JSON.stringify and recursive walks (the idempotency hash, job views)
// run out of stack near ten thousand, as a RangeError that would be a 500. Bodies foreman
// parses are checked once, here, so a hostile one is a 400 naming the field instead.
import { HttpError } from "../contract/http-error.ts";

/** Far beyond real requests (tool schemas nest a few dozen levels), far below the stack's limit. */
export const MAX_JSON_DEPTH = 1000;

/**
 * Throws a 400 when `value` nests deeper than `max` levels, naming the field (its first two
 * segments, e.g. /request/options) whose value is too deep. Iterative, so it cannot overflow.
 */
export function checkDepth(value: unknown, max = MAX_JSON_DEPTH): void {
  const pending: { value: unknown; depth: number; field: string }[] = [{ value, depth: 0, field: "" }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (next.value === null || typeof next.value !== "object") continue;
    const depth = next.depth + 1;
    if (depth > max) throw new HttpError(400, `${next.field || "body"}: nested deeper than ${max} levels`, next.field || undefined);
    const named = depth <= 2;
    for (const [key, child] of Object.entries(next.value)) {
      if (child !== null && typeof child === "object") pending.push({ value: child, depth, field: named ? `${next.field}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}` : next.field });
    }
  }
}
