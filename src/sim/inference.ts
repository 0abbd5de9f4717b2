// The dialect-free core of one inference request: fault checks, scheduling
// and load, the first-byte delay, then tokens spaced by tokenDelayMs. Native
// and OpenAI routes only differ in how they render what this produces.

import { sleep } from "./clock.ts";
import { enterFlight, type Outcome, type SimContext } from "./context.ts";
import { ClientGone, QUEUE_FULL, SimError } from "./errors.ts";
import { generateTokens } from "./output.ts";
import type { Lease, Want } from "./scheduler.ts";

/** One inference request: the runner it wants, and what its output is derived from. */
export interface Plan extends Want {
  /** Text the output is derived from (prompt, messages, context). */
  input: string;
  promptTokens: number;
  /** num_predict / max_tokens when set (>0): exactly that many tokens, done_reason "length". */
  limit: number | undefined;
  seed: number;
}

/** A streamed reply broke after output started (fault errorMidStream). */
export class MidStreamError extends Error {}

export interface Metrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

const ns = (ms: number): number => Math.max(1, Math.round(ms * 1e6));

export class Session {
  readonly tokens: string[];
  readonly doneReason: "stop" | "length";
  private emitted = 0;
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
    const count = plan.limit ?? ctx.settings.responseTokens;
    this.tokens = generateTokens(plan.entry.key, plan.input, plan.seed, count);
    this.doneReason = plan.limit !== undefined ? "length" : "stop";
  }

  /** Tokens one by one, spaced by tokenDelayMs; throws MidStreamError per the fault. */
  async *stream(): AsyncGenerator<string> {
    const fault = this.ctx.faults().errorMidStream;
    for (const [i, token] of this.tokens.entries()) {
      if (fault && i >= fault.afterChunks) throw new MidStreamError(fault.message);
      if (i > 0) await sleep(this.ctx.settings.tokenDelayMs, this.signal);
      this.mark();
      yield token;
    }
    // A shorter reply than afterChunks still breaks instead of finishing.
    if (fault) throw new MidStreamError(fault.message);
  }

  /** All tokens at once (stream:false), still taking the same time. */
  async text(): Promise<string> {
    let out = "";
    for await (const token of this.stream()) out += token;
    return out;
  }

  metrics(): Metrics {
    const now = performance.now();
    return {
      total_duration: ns(now - this.startedAt),
      load_duration: ns(this.lease.loadMs),
      prompt_eval_count: this.plan.promptTokens,
      prompt_eval_duration: ns((this.firstTokenAt || now) - this.handedAt),
      eval_count: this.emitted,
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

  private mark(): void {
    const now = performance.now();
    if (this.emitted === 0) this.firstTokenAt = now;
    this.lastTokenAt = now;
    this.emitted++;
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
    if (early) throw new SimError(early.status, early.message, true);
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
