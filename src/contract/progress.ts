// A running job's text on its event stream. Each `job.progress` event says where its text starts
// in the job's output (`offset`, in characters: Unicode code points, what Go counts as runes and
// Python as len), and the first one a subscriber gets mid-job carries all the text so far
// (offset 0), so a late subscriber misses nothing. A client that re-opens the stream
// (Last-Event-ID) gets that text again; `unseen` keeps only what it has not had yet.
// Dependency-free on purpose: the client package (clients/ts) imports it at run time.

/** The length of `text` in characters (code points), the unit of `offset`. */
export function characters(text: string): number {
  let n = 0;
  // a string's iterator yields code points (a surrogate pair is one)
  for (const _ of text) n++;
  return n;
}

/**
 * What of `text`, which starts at character `offset` of the output, comes after the first `seen`
 * characters a reader already has: all of it when it starts at or past them, "" when it is all
 * known.
 */
export function unseen(text: string, offset: number, seen: number): string {
  if (offset >= seen) return text;
  return Array.from(text).slice(seen - offset).join("");
}
