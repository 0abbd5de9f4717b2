// Ollama's ChatHandler and GenerateHandler. Every dialect's middleware turns
// its request into one of these native requests, so all of them get the same
// checks in Ollama's order, the same load/unload replies and the same
// session; only the writer that renders the chunks differs.

import { supports, type ModelEntry } from "./catalogue.ts";
import type { SimContext } from "./context.ts";
import type { KeepAlive } from "./duration.ts";
import { ContextOverflow, SimError } from "./errors.ts";
import { begin, emptyReply, loadOnly, type Plan } from "./inference.ts";
import { countTokens, type ToolSpec } from "./output.ts";
import { renderSession, type Writer } from "./render.ts";
import { chatInput, limitOf, lookup, seedOf, wantOf, type ChatMessage, type Think } from "./request.ts";
import type { JsonObject } from "./body.ts";
import type { Call } from "./context.ts";


interface Common {
  model: string;
  think: Think;
  options: JsonObject;
  keepAlive: KeepAlive;
  shift?: boolean;
  /** false: a prompt over the context is refused rather than cut (Ollama ≥ 0.35.1 says so in a structured error). */
  truncate?: boolean;
  topLogprobs: number;
  stream: boolean;
}

export interface ChatRequest extends Common {
  messages: ChatMessage[];
  tools: ToolSpec[];
  /** Set by /v1/messages: thinking asked of a model without it is dropped, not refused. */
  relaxThinking?: boolean;
  /**
   * num_predict only caps the reply instead of setting its length. The
   * simulator's own convention (a num_predict reply is exactly that long)
   * cannot hold for Anthropic's max_tokens, which every request must carry.
   */
  capOnly?: boolean;
}

export interface GenerateRequest extends Common {
  prompt: string;
  suffix: string;
  system: string;
  template: string;
  context: number[];
  raw: boolean;
}

/** With truncate:false, a prompt longer than the runner's context is refused, not cut. */
function checkContext(req: Common, plan: Plan): void {
  if (req.truncate === false && plan.promptTokens > plan.load.numCtx) throw new ContextOverflow(plan.promptTokens, plan.load.numCtx);
}

function checkTopLogprobs(n: number): void {
  if (n < 0 || n > 20) throw new SimError(400, "top_logprobs must be between 0 and 20");
}

/**
 * Whether the model thinks: models with the capability think unless told not
 * to; asking one without it is a 400 (or, relaxed, ignored).
 */
function thinkingOf(entry: ModelEntry, model: string, think: Think, relax = false): boolean {
  if (supports(entry, "thinking")) return think !== false;
  if (think === undefined || think === false || relax) return false;
  throw new SimError(400, `${JSON.stringify(model)} does not support thinking`);
}

/**
 * scheduleRunner's CheckCapabilities: a model that cannot complete is named as
 * the request gave it; other missing capabilities by its full registry name.
 */
function requireCapabilities(entry: ModelEntry, model: string, verb: "chat" | "generate", extra: string[]): void {
  const missing = ["completion", ...extra].filter((c) => !supports(entry, c));
  if (missing.includes("completion")) throw new SimError(400, `${JSON.stringify(model)} does not support ${verb}`);
  if (missing.length > 0) throw new SimError(400, `${entry.key} does not support ${missing.join("\n")}`);
}

function sampling(ctx: SimContext, options: JsonObject, capOnly = false): Pick<Plan, "limit" | "seed"> {
  const tokens = limitOf(options.num_predict);
  return { limit: tokens === undefined ? undefined : { tokens, exact: !capOnly }, seed: seedOf(options.seed, ctx.settings.seed) };
}

export async function chatHandler(ctx: SimContext, req: ChatRequest, writer: Writer, call: Call): Promise<Response> {
  checkTopLogprobs(req.topLogprobs);
  // Ollama's model reference is trimmed: a blank name is no name
  if (req.model.trim() === "") throw new SimError(400, "model is required");
  const entry = lookup(ctx.catalogue, req.model, "single");
  if (req.messages.length === 0 && req.keepAlive === 0) {
    ctx.scheduler.unload(entry);
    return writer.reply(emptyReply("unload"));
  }
  const think = thinkingOf(entry, req.model, req.think, req.relaxThinking);
  requireCapabilities(entry, req.model, "chat", req.tools.length > 0 ? ["tools"] : []);
  const want = wantOf(entry, req.keepAlive, req.options, req.shift);
  if (req.messages.length === 0) {
    await loadOnly(ctx, want, call.signal);
    return writer.reply(emptyReply("load"));
  }
  const { input, promptTokens } = chatInput(req.messages);
  // After a tool result the model answers in text instead of calling again.
  const tools = req.messages.at(-1)?.role === "tool" ? [] : req.tools;
  const plan: Plan = { ...want, input, promptTokens, ...sampling(ctx, req.options, req.capOnly), think, tools };
  checkContext(req, plan);
  return renderSession(await begin(ctx, plan, call.signal), writer, req.stream, call);
}

export async function generateHandler(ctx: SimContext, req: GenerateRequest, writer: Writer, call: Call): Promise<Response> {
  checkTopLogprobs(req.topLogprobs);
  if (req.model.trim() === "") throw new SimError(404, `model '${req.model}' not found`);
  const entry = lookup(ctx.catalogue, req.model, "single");
  if (req.prompt === "" && req.keepAlive === 0) {
    ctx.scheduler.unload(entry);
    return writer.reply(emptyReply("unload"));
  }
  if (req.raw && (req.template !== "" || req.system !== "" || req.context.length > 0)) {
    throw new SimError(400, "raw mode does not support template, system, or context");
  }
  const think = thinkingOf(entry, req.model, req.think);
  requireCapabilities(entry, req.model, "generate", req.suffix !== "" ? ["insert"] : []);
  const want = wantOf(entry, req.keepAlive, req.options, req.shift);
  if (req.prompt === "") {
    await loadOnly(ctx, want, call.signal);
    return writer.reply(emptyReply("load"));
  }
  const plan: Plan = {
    ...want,
    input: `${req.context.join(" ")}\u0000${req.system}\u0000${req.prompt}${req.suffix === "" ? "" : `\u0000${req.suffix}`}`,
    promptTokens: countTokens(`${req.system} ${req.prompt} ${req.suffix}`) + (req.raw ? 0 : 8),
    ...sampling(ctx, req.options),
    think,
    tools: [],
  };
  checkContext(req, plan);
  return renderSession(await begin(ctx, plan, call.signal), writer, req.stream, call);
}
