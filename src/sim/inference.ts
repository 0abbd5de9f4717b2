// The dialect-free core of one inference request: fault checks, scheduling
// and load, the first-byte delay, then the reply's chunks spaced by
// tokenDelayMs. A chunk is what Ollama's handlers hand their writers (an
// api.ChatResponse in essence); every dialect renders the same chunks.

import { sleep } from "./clock.ts";
import { enterFlight, type Outcome, type SimContext } from "./context.ts";
import { ClientGone, QUEUE_FULL, SimError } from "./errors.ts";
import { planReply, tokenIds, type Piece, type ToolCall, type ToolSpec } from "./output.ts";
import type { Lease, Want } from "./scheduler.ts";

/** One inference request: the runner it wants, and what its output is derived from. */
export interface Plan extends Want {
  /** Text the output is derived from (prompt, messages, context). */
  input: string;
  promptTokens: number;
  /** num_predict / max_tokens when set (>0); see ReplyRequest.limit. */
  limit: { tokens: number; exact: boolean } | undefined;
  seed: number;
  /** Whether the model thinks first (it has the capability and the request did not turn it off). */
  think: boolean;
  /** Tools for the model to call one of; empty to answer in text. */
  tools: ToolSpec[];
}

export interface Metrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/** One response from the model, as Ollama's handlers pass it to the dialect writers. */
export interface Chunk {
  content: string;
  thinking: string;
  toolCalls: ToolCall[];
  done: boolean;
  /** stop | length on the final chunk; load | unload for the empty-request replies. */
  doneReason?: string;
  metrics?: Metrics;
  /** Generate's context (prompt and reply token ids), on the final chunk. */
  context?: number[];
}

/** A load or unload reply: done, no output, no metrics. */
export const emptyReply = (doneReason: "load" | "unload"): Chunk => ({ content: "", thinking: "", toolCalls: [], done: true, doneReason });

/** A streamed reply broke after output started (fault errorMidStream). */
export class MidStreamError extends Error {}

const ns = (ms: number): number => Math.max(1, Math.round(ms * 1e6));

const chunkOf = (piece: Piece): Chunk => ({
  content: "content" in piece ? piece.content : "",
  thinking: "thinking" in piece ? piece.thinking : "",
  toolCalls: "toolCall" in piece ? [piece.toolCall] : [],
  done: false,
});

/** Thinking length: half the answer, at least one token. */
const thinkingTokens = (responseTokens: number): number => Math.max(1, Math.ceil(responseTokens / 2));

export class Session {
  private readonly pieces: Piece[];
  private readonly doneReason: "stop" | "length";
  private evalCount = 0;
  private firstTokenAt = 0;
  private lastTokenAt = 0;

  constructor(
    private readonly ctx: SimContext,
    readonly plan: Plan,
    private readonly lease: Lease,
    private readonly startedAt: number,
    private readonly handedAt: number,
    private readonly leave: (outcome: Outcome) => void,
    readonly signal: AbortSignal,
  ) {
    const reply = planReply({
      model: plan.entry.key,
      input: plan.input,
      seed: plan.seed,
      count: ctx.settings.responseTokens,
      thinking: plan.think ? thinkingTokens(ctx.settings.responseTokens) : 0,
      tools: plan.tools,
      limit: plan.limit,
    });
    this.pieces = reply.pieces;
    this.doneReason = reply.doneReason;
  }

  /** The reply's chunks one by one, spaced by tokenDelayMs; throws MidStreamError per the fault. */
  async *stream(): AsyncGenerator<Chunk> {
    const fault = this.ctx.faults().errorMidStream;
    // a looping model (the `endless` fault) says its reply over and over, until the caller goes away
    for (let i = 0; i < this.pieces.length || (this.pieces.length > 0 && this.ctx.faults().endless); i++) {
      const piece = this.pieces[i % this.pieces.length]!;
      if (fault && i >= fault.afterChunks) throw new MidStreamError(fault.message);
      if (i > 0) await sleep(this.ctx.settings.tokenDelayMs, this.signal);
      this.mark(piece.tokens);
      yield chunkOf(piece);
    }
    // A shorter reply than afterChunks still breaks instead of finishing.
    if (fault) throw new MidStreamError(fault.message);
  }

  /** The done chunk that ends a stream: no output, the metrics (and generate's context). */
  final(): Chunk {
    const text = this.pieces.map((p) => ("content" in p ? p.content : "")).join("");
    return {
      content: "",
      thinking: "",
      toolCalls: [],
      done: true,
      doneReason: this.doneReason,
      metrics: this.metrics(),
      context: [...tokenIds(this.plan.input), ...tokenIds(text)],
    };
  }

  /** stream:false: every chunk gathered into the final one, still taking the same time. */
  async collect(): Promise<Chunk> {
    let content = "";
    let thinking = "";
    const toolCalls: ToolCall[] = [];
    for await (const chunk of this.stream()) {
      content += chunk.content;
      thinking += chunk.thinking;
      toolCalls.push(...chunk.toolCalls);
    }
    return { ...this.final(), content, thinking, toolCalls };
  }

  metrics(): Metrics {
    const now = performance.now();
    return {
      total_duration: ns(now - this.startedAt),
      load_duration: ns(this.lease.loadMs),
      prompt_eval_count: this.plan.promptTokens,
      prompt_eval_duration: ns((this.firstTokenAt || now) - this.handedAt),
      eval_count: this.evalCount,
      eval_duration: ns(this.lastTokenAt - this.firstTokenAt),
    };
  }

  /** Ends the request: frees the slot and counts the outcome. Idempotent. */
  end(outcome: Outcome): void {
    this.lease.release();
    this.leave(outcome);
  }

  /** The outcome for an error thrown while producing output. */
  static outcomeOf(err: unknown): Outcome {
    return err instanceof ClientGone ? "aborted" : "failed";
  }

  private mark(tokens: number): void {
    const now = performance.now();
    if (this.evalCount === 0) this.firstTokenAt = now;
    this.lastTokenAt = now;
    this.evalCount += tokens;
  }
}

/** Fails fast when the busy fault is on: the queue-full 503. */
function checkBusy(ctx: SimContext): void {
  if (ctx.faults().busy) throw new SimError(503, QUEUE_FULL);
}

/**
 * Everything before the first output byte: busy fault, scheduling and load,
 * firstByteDelay, errorBeforeFirstByte. The caller must end() the session.
 */
export async function begin(ctx: SimContext, plan: Plan, signal: AbortSignal): Promise<Session> {
  const startedAt = performance.now();
  const leave = enterFlight(ctx.counters);
  let lease: Lease | undefined;
  try {
    checkBusy(ctx);
    lease = await ctx.scheduler.acquire(plan, signal, true);
    const handedAt = performance.now();
    await sleep(ctx.faults().firstByteDelayMs, signal);
    const early = ctx.faults().errorBeforeFirstByte;
    if (early) throw new SimError(early.status, early.message, "stream");
    return new Session(ctx, plan, lease, startedAt, handedAt, leave, signal);
  } catch (err) {
    lease?.release();
    leave(Session.outcomeOf(err));
    throw err;
  }
}

/** A load-only request (§5.3): schedules and loads the model, takes no slot. */
export async function loadOnly(ctx: SimContext, want: Want, signal: AbortSignal): Promise<void> {
  const leave = enterFlight(ctx.counters);
  try {
    checkBusy(ctx);
    const lease = await ctx.scheduler.acquire(want, signal, false);
    lease.release();
    leave("completed");
  } catch (err) {
    leave(Session.outcomeOf(err));
    throw err;
  }
}
