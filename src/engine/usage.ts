// What one finished piece of work cost (ADR 0036): tokens in and out, and where the target's
// time went. The counts come from the target's own reply — Ollama's native counters, or the
// `usage` object of its OpenAI and Anthropic layers — and foreman's clock fills in what no reply
// reports. A reply that reports no token counts at all (a streamed /v1 reply whose client did
// not ask for them) gets foreman's own count of the output and is marked estimated. Pure.
import type { Usage } from "../queue/usage-schema.ts";

export { UsageSchema, type Usage } from "../queue/usage-schema.ts";

/** What a reply itself reports; a field is absent when the reply does not carry it. */
export interface ReportedUsage {
  promptTokens?: number;
  outputTokens?: number;
  loadMs?: number;
  promptEvalMs?: number;
  generationMs?: number;
}


const count = (v: unknown): number | undefined => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);
/** Ollama reports durations in nanoseconds. */
const nsToMs = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? Math.round(v / 1e6) : undefined);

/**
 * The counts in a reply in the non-streamed shape (the assemblers fold a stream into it):
 * native `prompt_eval_count`, `eval_count` and durations; OpenAI `usage.prompt_tokens` and
 * `completion_tokens`; Responses and Anthropic `usage.input_tokens` and `output_tokens`.
 */
export function reportedUsage(result: unknown): ReportedUsage {
  if (result === null || typeof result !== "object") return {};
  const r = result as Record<string, unknown>;
  const u = (r.usage !== null && typeof r.usage === "object" ? r.usage : {}) as Record<string, unknown>;
  const out: ReportedUsage = {};
  const set = <K extends keyof ReportedUsage>(key: K, ...values: (number | undefined)[]) => {
    const v = values.find((x) => x !== undefined);
    if (v !== undefined) out[key] = v;
  };
  set("promptTokens", count(r.prompt_eval_count), count(u.prompt_tokens), count(u.input_tokens));
  set("outputTokens", count(r.eval_count), count(u.completion_tokens), count(u.output_tokens));
  set("loadMs", nsToMs(r.load_duration));
  set("promptEvalMs", nsToMs(r.prompt_eval_duration));
  set("generationMs", nsToMs(r.eval_duration));
  // a reply that counts its prompt and no output is an embedding's: it generated nothing
  if (out.promptTokens !== undefined && out.outputTokens === undefined) out.outputTokens = 0;
  // a native load or unload (an empty prompt or messages) counts nothing, and evaluated nothing
  if ((r.done_reason === "load" || r.done_reason === "unload") && out.promptTokens === undefined) Object.assign(out, { promptTokens: 0, outputTokens: 0 });
  return out;
}

/** foreman's own clock for a run, in ms: `loadMs` only when the run loaded its model. */
export interface RunClock {
  loadMs?: number;
  ttftMs: number;
  totalMs: number;
}

/**
 * The usage to record: the reply's counts where it has them, foreman's clock for the rest (load:
 * until the first byte of a run that loaded; prompt evaluation: the rest of the wait for the first
 * byte; generation: first byte to last). `counted` is foreman's own count of output tokens.
 */
export function usageOf(reported: ReportedUsage, clock: RunClock, counted: number): Usage {
  const estimated = reported.promptTokens === undefined && reported.outputTokens === undefined;
  const loadMs = reported.loadMs ?? clock.loadMs ?? 0;
  return {
    prompt_tokens: reported.promptTokens ?? 0,
    output_tokens: reported.outputTokens ?? counted,
    load_ms: loadMs,
    prompt_eval_ms: reported.promptEvalMs ?? Math.max(0, clock.ttftMs - (clock.loadMs ?? 0)),
    generation_ms: reported.generationMs ?? Math.max(0, clock.totalMs - clock.ttftMs),
    target_ms: clock.totalMs,
    estimated,
  };
}
