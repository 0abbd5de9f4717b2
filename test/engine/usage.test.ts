// What a finished piece of work cost: the reply's own counts in each dialect, foreman's clock for
// what no reply carries, and `estimated` exactly when the reply gave no token counts.
import { describe, expect, test } from "bun:test";
import { reportedUsage, usageOf } from "../../src/engine/usage.ts";

describe("reportedUsage", () => {
  test("native replies: Ollama's counters, durations from nanoseconds to milliseconds", () => {
    const native = { model: "m", done: true, load_duration: 1_500_000, prompt_eval_count: 12, prompt_eval_duration: 2_499_999, eval_count: 30, eval_duration: 60_000_000, total_duration: 70_000_000 };
    expect(reportedUsage(native)).toEqual({ promptTokens: 12, outputTokens: 30, loadMs: 2, promptEvalMs: 2, generationMs: 60 });
  });

  test("OpenAI chat and completions: usage.prompt_tokens and completion_tokens, no durations", () => {
    expect(reportedUsage({ object: "chat.completion", usage: { prompt_tokens: 7, completion_tokens: 9, total_tokens: 16 } })).toEqual({ promptTokens: 7, outputTokens: 9 });
  });

  test("Responses and Anthropic: usage.input_tokens and output_tokens", () => {
    expect(reportedUsage({ type: "message", usage: { input_tokens: 4, output_tokens: 5 } })).toEqual({ promptTokens: 4, outputTokens: 5 });
    expect(reportedUsage({ object: "response", usage: { input_tokens: 3, output_tokens: 8, total_tokens: 11 } })).toEqual({ promptTokens: 3, outputTokens: 8 });
  });

  test("embeddings count their prompt and generate nothing", () => {
    expect(reportedUsage({ embeddings: [[0.1]], prompt_eval_count: 6, load_duration: 1_000_000, total_duration: 3_000_000 })).toEqual({ promptTokens: 6, outputTokens: 0, loadMs: 1 });
    expect(reportedUsage({ object: "list", data: [], usage: { prompt_tokens: 5, total_tokens: 5 } })).toEqual({ promptTokens: 5, outputTokens: 0 });
  });

  test("a native load or unload counts nothing, exactly", () => {
    expect(reportedUsage({ model: "m", message: { role: "assistant", content: "" }, done_reason: "load", done: true })).toEqual({ promptTokens: 0, outputTokens: 0 });
    expect(reportedUsage({ model: "m", response: "", done_reason: "unload", done: true })).toEqual({ promptTokens: 0, outputTokens: 0 });
  });

  test("a reply without counts reports nothing; values that are not counts are not taken", () => {
    expect(reportedUsage({ object: "chat.completion", choices: [] })).toEqual({});
    expect(reportedUsage({ eval_count: -1, prompt_eval_count: 1.5, usage: null, load_duration: "1" })).toEqual({});
    expect(reportedUsage(null)).toEqual({});
    expect(reportedUsage("text")).toEqual({});
  });
});

describe("usageOf", () => {
  const clock = { ttftMs: 120, totalMs: 500 };

  test("the reply's counts win; the time holding the target is always foreman's", () => {
    const u = usageOf({ promptTokens: 12, outputTokens: 30, loadMs: 2, promptEvalMs: 3, generationMs: 60 }, { loadMs: 100, ...clock }, 99);
    expect(u).toEqual({ prompt_tokens: 12, output_tokens: 30, load_ms: 2, prompt_eval_ms: 3, generation_ms: 60, target_ms: 500, estimated: false });
  });

  test("without durations: load until the first byte of a run that loaded, prompt evaluation the rest of that wait, generation first byte to last", () => {
    expect(usageOf({ promptTokens: 7, outputTokens: 9 }, { loadMs: 100, ...clock }, 9)).toEqual({ prompt_tokens: 7, output_tokens: 9, load_ms: 100, prompt_eval_ms: 20, generation_ms: 380, target_ms: 500, estimated: false });
    expect(usageOf({ promptTokens: 7, outputTokens: 9 }, clock, 9)).toMatchObject({ load_ms: 0, prompt_eval_ms: 120, generation_ms: 380 });
  });

  test("no token counts at all (a streamed /v1 reply without usage): foreman's count of the output, prompt 0, estimated", () => {
    expect(usageOf({}, clock, 42)).toEqual({ prompt_tokens: 0, output_tokens: 42, load_ms: 0, prompt_eval_ms: 120, generation_ms: 380, target_ms: 500, estimated: true });
  });
});
