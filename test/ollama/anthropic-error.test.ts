// The one Anthropic error table (Ollama's anthropic.NewError), read by the simulator and by
// foreman's edge; the edge alone names a 413 as Anthropic does (ADR 0037).
import { describe, expect, test } from "bun:test";
import { errorResponse } from "../../src/http/errors.ts";
import { anthropicErrorType, generateId } from "../../src/ollama/anthropic-error.ts";
import { errorBody } from "../../src/sim/errors.ts";

describe("the Anthropic error table", () => {
  test("NewError's types by status, api_error for the rest", () => {
    const table = Object.fromEntries([400, 401, 403, 404, 413, 429, 500, 503, 529].map((s) => [s, anthropicErrorType(s)]));
    expect(table).toEqual({
      400: "invalid_request_error",
      401: "authentication_error",
      403: "permission_error",
      404: "not_found_error",
      413: "api_error",
      429: "rate_limit_error",
      500: "api_error",
      503: "overloaded_error",
      529: "overloaded_error",
    });
  });

  test("the simulator writes Ollama's type; foreman's edge names a 413 request_too_large", async () => {
    expect(errorBody("anthropic", 413, "x")).toMatchObject({ type: "error", error: { type: "api_error", message: "x" } });
    expect(await errorResponse("anthropic", 413, "x").json()).toMatchObject({ type: "error", error: { type: "request_too_large", message: "x" } });
    expect(await errorResponse("anthropic", 503, "y").json()).toMatchObject({ error: { type: "overloaded_error" } });
  });

  test("ids are the prefix and 12 random bytes in hex", () => {
    expect(generateId("req")).toMatch(/^req_[0-9a-f]{24}$/);
    expect(generateId("msg")).not.toBe(generateId("msg"));
  });
});
