// Splitting a byte stream into NDJSON lines or SSE events, as pure functions over text so
// they are tested without servers. Partial input stays in `rest` until more arrives.
// Dependency-free on purpose: the client package (clients/ts) imports it at run time.
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

/** One SSE event with the fields the spec defines; `data` is undefined when it had no data line. */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
}

/** SSE: events end with a blank line; every field of each event, comments dropped. */
export function splitSseEvents(buffer: string): { items: SseEvent[]; rest: string } {
  const blocks = buffer.replace(/\r\n/g, "\n").split("\n\n");
  const rest = blocks.pop()!;
  const items: SseEvent[] = [];
  for (const block of blocks) {
    const event: SseEvent = {};
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "data") data.push(value);
      else if (field === "id" && !value.includes("\0")) event.id = value;
      else if (field === "event") event.event = value;
      else if (field === "retry" && /^\d+$/.test(value)) event.retry = Number(value);
    }
    if (data.length) event.data = data.join("\n");
    if (Object.keys(event).length) items.push(event);
  }
  return { items, rest };
}

/** SSE: the joined `data:` payload of each event that has one. */
export function splitSse(buffer: string): Split {
  const { items, rest } = splitSseEvents(buffer);
  return { items: items.flatMap((e) => (e.data === undefined ? [] : [e.data])), rest };
}
