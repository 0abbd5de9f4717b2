// Ollama's errors are values with a status and a message, mapped once at the
// edge into the caller's dialect: native `{"error"}`, the OpenAI envelope
// (/v1), or Anthropic's error object (/v1/messages).

import { anthropicErrorType, generateId } from "../ollama/anthropic-error.ts";
import { goMap } from "./gojson.ts";

/**
 * Which Ollama code path wrote the error, which decides its bytes:
 * - handler: c.JSON in a handler (native: `application/json; charset=utf-8`;
 *   /v1: rewritten by the dialect's writer, `application/json` plus a newline);
 * - stream: the stream helper before the first byte (native: `application/json`);
 * - middleware: a /v1 middleware rejecting the request before the handler
 *   (c.JSON with the dialect's body: charset, no newline).
 */
export type ErrorOrigin = "handler" | "stream" | "middleware";

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly origin: ErrorOrigin = "handler",
  ) {
    super(message);
  }
}

/**
 * Ollama ≥ 0.35.1's answer to a prompt over the context with `truncate:false`: a structured
 * error object instead of a message (§11), which a proxy passes on unchanged.
 */
export class ContextOverflow extends SimError {
  constructor(
    readonly promptTokens: number,
    readonly contextSize: number,
  ) {
    super(400, `request (${promptTokens} tokens) exceeds the available context size (${contextSize} tokens), try increasing it`);
  }
}

/** The client went away; nothing is sent, the request counts as aborted. */
export class ClientGone extends Error {
  constructor() {
    super("request canceled");
  }
}

export const QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded";

export type Dialect = "native" | "openai" | "anthropic";

function openAIErrorType(status: number): string {
  if (status === 400) return "invalid_request_error";
  if (status === 404) return "not_found_error";
  return "api_error";
}

/** The error object each dialect writes. */
export function errorBody(dialect: Dialect, status: number, message: string, err?: SimError): unknown {
  if (dialect === "native" && err instanceof ContextOverflow) {
    return goMap({ error: goMap({ code: status, message, type: "exceed_context_size_error", n_prompt_tokens: err.promptTokens, n_ctx: err.contextSize }) });
  }
  if (dialect === "native") return goMap({ error: message });
  if (dialect === "openai") return { error: { message, type: openAIErrorType(status), param: null, code: null } };
  return { type: "error", error: { type: anthropicErrorType(status), message }, request_id: generateId("req") };
}
