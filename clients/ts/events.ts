// GET /jobs/{id}/events as an async iterator. A dropped stream is re-opened with
// Last-Event-ID, so the caller sees each event once and in order, until the terminal one, and
// the generated text once: the text so far that a re-opened stream starts with is cut to what
// the caller has not had (by each progress event's `offset`).
import { characters, unseen } from "../../src/contract/progress.ts";
import { isTerminal } from "../../src/contract/states.ts";
import { splitSseEvents, type SseEvent } from "../../src/contract/lines.ts";
import { ForemanConnectionError, messageOf } from "./errors.ts";
import { backoffMs, isTransient, sleep } from "./retry.ts";
import type { JobApi, JobEvent } from "./types.ts";

/** Pure: a wire event as a JobEvent, or null for what this client does not know (comments, other types). */
export function toJobEvent(raw: SseEvent): JobEvent | null {
  if (raw.data === undefined || !raw.event?.startsWith("job.")) return null;
  const id = raw.id === undefined ? {} : { id: raw.id };
  return { ...id, event: raw.event, data: JSON.parse(raw.data) } as JobEvent;
}

/**
 * The items of a framed byte stream (NDJSON lines, SSE events) as they arrive, split by
 * `split`; a read that fails throws what `broke` makes of the error. The stream is released
 * however the loop ends.
 */
export async function* framed<T>(body: ReadableStream<Uint8Array>, split: (buffer: string) => { items: T[]; rest: string }, broke: (err: unknown) => unknown): AsyncGenerator<T> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let rest = "";
  try {
    for (;;) {
      const { value, done } = await reader.read().catch((err: unknown) => {
        throw broke(err);
      });
      if (done) return;
      const parts = split(rest + decoder.decode(value, { stream: true }));
      rest = parts.rest;
      yield* parts.items;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

const sseEvents = (body: ReadableStream<Uint8Array>) => framed(body, splitSseEvents, (err) => new ForemanConnectionError(`the event stream broke: ${messageOf(err)}`, err));

export async function* jobEvents(client: JobApi, id: string, options: { lastEventId?: string; signal?: AbortSignal }): AsyncGenerator<JobEvent> {
  const { signal } = options;
  let lastEventId = options.lastEventId;
  let retryMs: number | undefined;
  // characters of the current run's text yielded so far; a run back in the queue starts again
  let seen = 0;
  for (let failures = 0; ; failures++) {
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (lastEventId !== undefined) headers["last-event-id"] = lastEventId;
      const res = await client.request("GET", `/jobs/${encodeURIComponent(id)}/events`, { headers, signal });
      for await (const raw of res.body ? sseEvents(res.body) : []) {
        failures = 0;
        if (raw.retry !== undefined) retryMs = raw.retry;
        if (raw.id !== undefined) lastEventId = raw.id;
        const event = toJobEvent(raw);
        if (!event) continue;
        if (event.event === "job.progress") {
          const { text, offset } = event.data;
          const fresh = unseen(text, offset, seen);
          const start = Math.max(offset, seen);
          seen = start + characters(fresh);
          yield { ...event, data: { ...event.data, text: fresh, offset: start } };
          continue;
        }
        if (event.event === "job.queued") seen = 0;
        yield event;
        if (isTerminal(event.data.status)) return;
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      // a stream that broke halfway is resumed like one that could not be opened
      if (!isTransient(err)) throw err;
    }
    await sleep(retryMs ?? backoffMs(failures), signal);
  }
}
