// Ollama's anthropic.NewError (anthropic/anthropic.go): the Messages API's error type for an
// HTTP status, and the ids Ollama makes (generateID). One table for the simulator, which answers
// as Ollama does, and foreman's edge, which answers /v1/messages in the same dialect. Pure.

/** NewError's switch; any other status is "api_error". */
const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  429: "rate_limit_error",
  503: "overloaded_error",
  529: "overloaded_error",
};

export const anthropicErrorType = (status: number): string => ERROR_TYPES[status] ?? "api_error";

/** anthropic.generateID: a prefix (`req`, `msg`) and 12 random bytes in hex. */
export const generateId = (prefix: string): string => `${prefix}_${Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("hex")}`;
