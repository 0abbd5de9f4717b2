// Splitting a byte stream into NDJSON lines or SSE events, as pure functions over text so
// they are tested without servers. Partial input stays in `rest` until more arrives.
export interface Split {
  items: string[];
  rest: string;
}

/** NDJSON: one JSON document per "\n"; blank lines are dropped. */
export function splitLines(buffer: string): Split {
  const parts = buffer.split("\n");
  const rest = parts.pop()!;
  return { items: parts.map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== ""), rest };
}

/** SSE: events end with a blank line; returns the joined `data:` payload of each event. */
export function splitSse(buffer: string): Split {
  const normalized = buffer.replace(/\r\n/g, "\n");
  const events = normalized.split("\n\n");
  const rest = events.pop()!;
  const items: string[] = [];
  for (const event of events) {
    const data = event
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""));
    if (data.length) items.push(data.join("\n"));
  }
  return { items, rest };
}
