// Errors are values with a status and a message a human can act on; they are turned into
// the caller's dialect once, at the edge: Ollama's {"error"} on /api/*, Anthropic's error
// object on /v1/messages (the Messages API Ollama serves), the OpenAI envelope on the rest of
// /v1/*, and foreman's own documented shape everywhere else (/jobs, /status, ...).
import type { Refuser } from "../../jobs/reading.ts";
import { HttpError } from "../contract/http-error.ts";
import { anthropicErrorType as ollamaAnthropicErrorType, generateId } from "../ollama/anthropic-error.ts";

export type Dialect = "ollama" | "openai" | "anthropic" | "foreman";

/** nginx's status for "the client closed the request": recorded and counted, never seen by anyone. */
export const CLIENT_CLOSED_REQUEST = 499;

export function dialectOf(pathname: string): Dialect {
  if (pathname === "/" || pathname.startsWith("/api/")) return "ollama";
  if (pathname === "/v1/messages" || pathname.startsWith("/v1/messages/")) return "anthropic";
  if (pathname.startsWith("/v1/")) return "openai";
  return "foreman";
}

function openaiErrorType(status: number): string {
  if (status === 400 || status === 413 || status === 422) return "invalid_request_error";
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  return "api_error";
}

/** Ollama's anthropic.NewError type, and Anthropic's own name for a body too large (a 413 Ollama never sends). */
const anthropicErrorType = (status: number): string => (status === 413 ? "request_too_large" : ollamaAnthropicErrorType(status));

/** The error body for a dialect. */
function errorBody(dialect: Dialect, status: number, message: string, field?: string): unknown {
  switch (dialect) {
    case "ollama":
      return { error: message };
    case "openai":
      return { error: { message, type: openaiErrorType(status), param: field ? field.replace(/^\//, "").replaceAll("/", ".") : null, code: null } };
    case "anthropic":
      return { type: "error", error: { type: anthropicErrorType(status), message }, request_id: generateId("req") };
    case "foreman":
      return { error: { status, message, ...(field ? { field } : {}) } };
  }
}

/**
 * An error Ollama's handler would raise (a model it does not have, a full queue): on /v1 the
 * dialect's writer re-encodes it with json.Encoder — `application/json` and a trailing newline —
 * where foreman's other refusals are written as Ollama's middlewares write theirs (gin's c.JSON:
 * `; charset=utf-8`, no newline).
 */
export class HandlerError extends HttpError {}

/** The error reply for a dialect, with the bytes of the Ollama writer that would make it (`by`). */
export function errorResponse(dialect: Dialect, status: number, message: string, field?: string, headers?: Record<string, string>, by: Refuser = "middleware"): Response {
  const body = JSON.stringify(errorBody(dialect, status, message, field));
  const encoded = by === "handler" && (dialect === "openai" || dialect === "anthropic");
  const contentType = dialect === "foreman" || encoded ? "application/json" : "application/json; charset=utf-8";
  return new Response(encoded ? `${body}\n` : body, {
    status,
    headers: { "content-type": contentType, ...headers },
  });
}
