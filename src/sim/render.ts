// One loop turns a Session into a reply for both dialects: collected into one
// object (stream:false) or framed chunk by chunk, with the outcome counted
// exactly once however the stream ends (done, fault, or client gone).

import type { Outcome } from "./context.ts";
import { ClientGone, SimError } from "./errors.ts";
import { stream } from "./http.ts";
import { MidStreamError, type Session } from "./inference.ts";
import type { Call } from "./router.ts";

/** A dialect's framing; every string it returns is one flushed chunk. */
export interface Framing {
  contentType: string;
  chunk(token: string, first: boolean): string;
  /** After the last token: the done chunk(s), and any terminator. */
  tail(session: Session): string[];
  /** What the client sees when output breaks mid-stream. */
  broken(message: string, first: boolean): string;
  /** The stream:false reply built from all the text. */
  whole(text: string, session: Session): Response;
}

export async function renderSession(session: Session, framing: Framing, streaming: boolean, call: Call): Promise<Response> {
  if (!streaming) {
    try {
      const response = framing.whole(await session.text(), session);
      session.end("completed");
      return response;
    } catch (err) {
      session.end(err instanceof ClientGone ? "aborted" : "failed");
      throw err instanceof MidStreamError ? new SimError(500, err.message) : err;
    }
  }
  async function* chunks(): AsyncGenerator<string> {
    let outcome: Outcome = "aborted";
    let first = true;
    try {
      for await (const token of session.stream()) {
        yield framing.chunk(token, first);
        first = false;
      }
      outcome = "completed";
      for (const chunk of framing.tail(session)) yield chunk;
    } catch (err) {
      if (err instanceof ClientGone) return;
      outcome = "failed";
      yield framing.broken(err instanceof Error ? err.message : String(err), first);
    } finally {
      session.end(outcome);
    }
  }
  return stream(chunks(), framing.contentType, call.cancel);
}
