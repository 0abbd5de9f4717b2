// Response builders with the exact status lines, bodies and Content-Types Go's
// net/http and gin emit, plus the flush-per-chunk streaming both dialects use.

import { ClientGone, errorBody, SimError, type Dialect } from "./errors.ts";
import { goJson } from "./gojson.ts";

const JSON_UTF8 = "application/json; charset=utf-8";
export const JSON_PLAIN = "application/json";
export const NDJSON = "application/x-ndjson";
export const SSE = "text/event-stream";

/** One NDJSON frame: compact JSON and a newline (also what json.Encoder writes). */
export const ndjsonLine = (value: unknown): string => `${goJson(value)}\n`;

/** One SSE frame: a `data:` line and a blank line. */
export const sseEvent = (data: string): string => `data: ${data}\n\n`;

/** Go's net/http buffers this much of a reply before it must choose: a body that fits gets a Content-Length. */
export const GO_BUFFER_BYTES = 2048;

/**
 * A whole reply framed as Go frames it: sized when it fits the server's buffer, chunked (no
 * Content-Length) when it does not — so a test passing here passes against Ollama too.
 */
export function framed(body: string, status: number, headers: Record<string, string>): Response {
  const bytes = new TextEncoder().encode(body);
  if (bytes.byteLength <= GO_BUFFER_BYTES) return new Response(bytes, { status, headers });
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  return new Response(stream, { status, headers });
}

/** gin's c.JSON: Go's json.Marshal, no trailing newline. */
export function json(body: unknown, status = 200, contentType = JSON_UTF8): Response {
  return framed(goJson(body), status, { "Content-Type": contentType });
}

/** json.NewEncoder(w).Encode, as the /v1 writers reply: `application/json`, ending in a newline. */
export function encoded(body: unknown, status = 200): Response {
  return framed(ndjsonLine(body), status, { "Content-Type": JSON_PLAIN });
}

export function text(body: string, status = 200): Response {
  return framed(body, status, { "Content-Type": "text/plain; charset=utf-8" });
}

export function empty(): Response {
  return new Response(null, { status: 200 });
}

export const notFound = (): Response => new Response("404 page not found", { status: 404, headers: { "Content-Type": "text/plain" } });
export const methodNotAllowed = (): Response =>
  new Response("405 method not allowed", { status: 405, headers: { "Content-Type": "text/plain" } });

/** An error in the route's dialect, with the bytes of whichever Ollama code path made it (see ErrorOrigin). */
export function errorResponse(dialect: Dialect, err: SimError): Response {
  const body = errorBody(dialect, err.status, err.message, err);
  if (dialect === "native") return json(body, err.status, err.origin === "stream" ? JSON_PLAIN : JSON_UTF8);
  return err.origin === "middleware" ? json(body, err.status) : encoded(body, err.status);
}

/** Maps anything thrown by a handler into a SimError (unknown errors are 500s). */
export function toSimError(err: unknown): SimError {
  if (err instanceof SimError) return err;
  if (err instanceof ClientGone) return new SimError(499, err.message);
  return new SimError(500, err instanceof Error ? err.message : String(err));
}

/**
 * Streams `chunks` with one flush each. The first chunk is awaited before the
 * Response exists, so no headers leave before the first output (§2.1).
 * `cancel` runs when the client goes away mid-stream.
 */
export async function stream(chunks: AsyncGenerator<string>, contentType: string, cancel: () => void, headers: Record<string, string> = {}): Promise<Response> {
  const encoder = new TextEncoder();
  const first = await chunks.next();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.done) controller.close();
      else controller.enqueue(encoder.encode(first.value));
    },
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      cancel();
      await chunks.return(undefined);
    },
  });
  return new Response(body, { status: 200, headers: { ...headers, "Content-Type": contentType } });
}
