// Collecting the copies of a large body as soon as they are garbage (issue 24, ADR 0029).
// JavaScriptCore collects as its heap of objects grows, and the bytes behind strings and
// buffers barely move it: the text, parsed value and re-encodings of one 60 MB body after
// another piled up until some later collection — sixteen such bodies took foreman past 1 GiB
// with at most two read at once. A full collection of foreman's small heap takes milliseconds,
// against the tenths of a second a body that large takes to arrive or to be sent.

/** A body at least this large leaves copies worth a collection of their own. */
export const LARGE_BODY_BYTES = 16 * 1024 * 1024;

/** Collects now when the copies of a body of `bytes` just became garbage and it was large. */
export function collectAfter(bytes: number): void {
  if (bytes >= LARGE_BODY_BYTES) Bun.gc(true);
}
