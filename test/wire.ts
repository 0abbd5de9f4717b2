// Raw-wire test helpers: reads that keep chunk boundaries and arrival times, and NDJSON and
// SSE framing checks, so framing and flushing can be asserted without any client library
// (the simulator's tests and the passthrough's).

export interface Arrival {
  at: number;
  text: string;
}

/** Reads a body to the end, recording when each network chunk arrived. */
export async function readArrivals(response: Response): Promise<Arrival[]> {
  const reader = response.body?.getReader();
  if (!reader) return [];
  const decoder = new TextDecoder();
  const out: Arrival[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return out;
    out.push({ at: performance.now(), text: decoder.decode(value, { stream: true }) });
  }
}

/** NDJSON lines of a body, each parsed. */
export function ndjson(text: string): Array<Record<string, unknown>> {
  expectNdjsonFraming(text);
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** One compact JSON object per line, every line terminated. */
export function expectNdjsonFraming(text: string): void {
  if (!text.endsWith("\n")) throw new Error(`stream does not end with a newline: ${JSON.stringify(text.slice(-40))}`);
  for (const l of text.slice(0, -1).split("\n")) {
    if (JSON.stringify(JSON.parse(l)) !== l) throw new Error(`not one compact JSON object: ${l}`);
  }
}

/** SSE `data:` payloads; "[DONE]" stays a string. */
export function sseData(text: string): string[] {
  const events = text.split("\n\n");
  if (events.pop() !== "") throw new Error("SSE stream does not end with a blank line");
  return events.map((e) => {
    if (!e.startsWith("data: ") || e.includes("\n")) throw new Error(`bad SSE event: ${e}`);
    return e.slice(6);
  });
}

export interface NamedEvent {
  event: string;
  data: Record<string, unknown>;
  /** The data line exactly as sent. */
  raw: string;
}

/** Named SSE events (`event: x` then `data: {…}`), as /v1/responses and /v1/messages send them. */
export function namedEvents(text: string): NamedEvent[] {
  const events = text.split("\n\n");
  if (events.pop() !== "") throw new Error("SSE stream does not end with a blank line");
  return events.map((e) => {
    const match = /^event: ([^\n]+)\ndata: ([^\n]+)$/.exec(e);
    if (!match) throw new Error(`bad named SSE event: ${e}`);
    return { event: match[1]!, data: JSON.parse(match[2]!) as Record<string, unknown>, raw: match[2]! };
  });
}

/** A decoded JSON body, typed by the caller's expectation. */
export async function jsonOf<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export function post(url: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), ...init });
}
