// The pure rules of batches: the completion window, one input line's check, one result line, the finalizing's retry.
import { describe, expect, test } from "bun:test";
import { checkLine, finalizeRetryMs, resultLine, windowMs } from "../../src/engine/batches.ts";

const line = (over: Record<string, unknown> = {}) => JSON.stringify({ custom_id: "a", method: "POST", url: "/v1/embeddings", body: { model: "nomic-embed-text", input: "hi" }, ...over });

describe("windowMs", () => {
  test("24h as OpenAI, Go durations and days as foreman's extension; nothing else", () => {
    expect(windowMs("24h")).toBe(86_400_000);
    expect(windowMs("1h30m")).toBe(5_400_000);
    expect(windowMs("7d")).toBe(7 * 86_400_000);
    expect(windowMs("0s")).toEqual({ error: expect.any(String) });
    expect(windowMs("0d")).toEqual({ error: expect.any(String) });
    expect(windowMs("tomorrow")).toEqual({ error: expect.any(String) });
  });
});

describe("checkLine", () => {
  test("a valid line gives its custom_id, model and request, and marks the custom_id seen", () => {
    const seen = new Set<string>();
    expect(checkLine(line(), 1, "/v1/embeddings", seen)).toMatchObject({ customId: "a", model: "nomic-embed-text" });
    expect(checkLine(line(), 2, "/v1/embeddings", seen)).toMatchObject({ code: "duplicate_custom_id", line: 2 });
  });

  test("each fault named with its line and field", () => {
    const check = (text: string) => checkLine(text, 7, "/v1/embeddings", new Set());
    expect(check("{")).toMatchObject({ code: "invalid_json_line", line: 7 });
    expect(check("[1]")).toMatchObject({ code: "invalid_request" });
    expect(check(line({ custom_id: 3 }))).toMatchObject({ param: "custom_id" });
    expect(check(line({ method: "GET" }))).toMatchObject({ code: "invalid_method", param: "method" });
    expect(check(line({ url: "/v1/chat/completions" }))).toMatchObject({ code: "mismatched_url", param: "url" });
    expect(check(line({ body: { model: "nomic-embed-text", input: "hi", stream: true } }))).toMatchObject({ param: "body.stream" });
    expect(check(line({ body: { input: "hi" } }))).toMatchObject({ code: "invalid_request", param: "body.model" });
  });
});

describe("resultLine", () => {
  const base = { jobId: "J1", customId: "a", usage: null };
  test("done: the output file, status 200 and the reply", () => {
    expect(JSON.parse(resultLine({ ...base, status: "done", error: null }, '{"x":1}', null).text)).toEqual({ id: "batch_req_J1", custom_id: "a", response: { status_code: 200, request_id: "J1", body: { x: 1 } }, error: null });
  });
  test("a target 4xx: the error file with its status; exhausted attempts and canceled lines: an error object", () => {
    expect(resultLine({ ...base, status: "failed", error: { status: 404, message: "model not found" } }, null, null)).toMatchObject({ file: "error" });
    expect(JSON.parse(resultLine({ ...base, status: "failed", error: { status: 404, message: "m" } }, null, null).text).response.status_code).toBe(404);
    expect(JSON.parse(resultLine({ ...base, status: "failed", error: { status: 0, message: "target unreachable" } }, null, null).text)).toMatchObject({ response: null, error: { code: "request_failed" } });
    expect(JSON.parse(resultLine({ ...base, status: "canceled", error: null }, null, "expired").text).error.code).toBe("batch_expired");
    expect(JSON.parse(resultLine({ ...base, status: "canceled", error: null }, null, "cancelled").text).error.code).toBe("batch_cancelled");
  });
});

describe("finalizeRetryMs", () => {
  test("a failed finalizing is tried again after 1 s, doubling, never more than 8 s apart", () => {
    expect([1, 2, 3, 4, 5, 50].map(finalizeRetryMs)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });
});
