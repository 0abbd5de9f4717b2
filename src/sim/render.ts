// One loop turns a Session into a reply for every dialect: gathered into one
// object (stream:false) or written chunk by chunk through the dialect's
// writer, with the outcome counted exactly once however the stream ends
// (done, fault, or client gone). A writer is Ollama's response-writer wrapper:
// the native handler's chunks go in, the dialect's bytes come out.

import type { Outcome } from "./context.ts";
import { ClientGone, SimError } from "./errors.ts";
import { stream } from "./http.ts";
import { MidStreamError, type Chunk, type Session } from "./inference.ts";
import type { Call } from "./context.ts";

export interface Writer {
  /** Content-Type of a streamed reply. */
  contentType: string;
  /** Extra headers of a streamed reply. */
  headers?: Record<string, string>;
  /** The bytes one chunk becomes in a stream ("" for none); writers keep their own state. */
  frames(chunk: Chunk): string;
  /** What one written response (a stream:false reply, a load or unload reply) becomes. */
  reply(chunk: Chunk): Response;
  /** What the client sees when output breaks after it started (the native `{"error"}` line, as this dialect sees it). */
  broken(message: string): string;
}

export async function renderSession(session: Session, writer: Writer, streaming: boolean, call: Call): Promise<Response> {
  if (!streaming) {
    try {
      const response = writer.reply(await session.collect());
      session.end("completed");
      return response;
    } catch (err) {
      session.end(err instanceof ClientGone ? "aborted" : "failed");
      throw err instanceof MidStreamError ? new SimError(500, err.message) : err;
    }
  }
  async function* chunks(): AsyncGenerator<string> {
    let outcome: Outcome = "aborted";
    try {
      for await (const chunk of session.stream()) {
        const out = writer.frames(chunk);
        if (out !== "") yield out;
      }
      outcome = "completed";
      yield writer.frames(session.final());
    } catch (err) {
      if (err instanceof ClientGone) return;
      outcome = "failed";
      const out = writer.broken(err instanceof Error ? err.message : String(err));
      if (out !== "") yield out;
    } finally {
      session.end(outcome);
    }
  }
  return stream(chunks(), writer.contentType, call.cancel, writer.headers);
}
