// Ollama's errors are values with a status and a message, mapped once at the
// edge into the caller's dialect (native `{"error"}` or the OpenAI envelope).

import { goJson } from "./gojson.ts";

export class SimError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Emitted by Ollama's stream helper: `application/json` without charset. */
    readonly plain = false,
  ) {
    super(message);
  }
}

/** The client went away; nothing is sent, the request counts as aborted. */
export class ClientGone extends Error {
  constructor() {
    super("request canceled");
  }
}

export const QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded";

export function openAIErrorType(status: number): string {
  if (status === 400) return "invalid_request_error";
  if (status === 404) return "not_found_error";
  return "api_error";
}

export function openAIErrorBody(status: number, message: string): string {
  return goJson({ error: { message, type: openAIErrorType(status), param: null, code: null } });
}
