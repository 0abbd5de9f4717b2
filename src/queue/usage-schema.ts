// The shape of what one finished piece of work cost (ADR 0036), as the job view, its events and
// webhooks, and the usage ledger store it. It lives with the queue, which stores it; the engine
// computes it (src/engine/usage.ts).
import { Type, type Static } from "@sinclair/typebox";

/** What a finished job cost (ADR 0036): the target's own counts where its reply carried them, foreman's clock for the rest. */
export const UsageSchema = Type.Object(
  {
    prompt_tokens: Type.Integer({ description: "tokens of the prompt the target evaluated (0 when the reply did not say: estimated)" }),
    output_tokens: Type.Integer({ description: "tokens the target generated (foreman's count of stream messages when the reply did not say: estimated)" }),
    load_ms: Type.Integer({ description: "loading the model: the target's load_duration, else foreman's wait for the first byte of a run that loaded it, else 0" }),
    prompt_eval_ms: Type.Integer({ description: "evaluating the prompt: the target's prompt_eval_duration, else foreman's wait for the first byte less the load" }),
    generation_ms: Type.Integer({ description: "generating: the target's eval_duration, else foreman's time from the first byte to the last" }),
    target_ms: Type.Integer({ description: "holding the target, by foreman's clock: sent to the target to the end of its reply" }),
    estimated: Type.Boolean({ description: "true when the reply carried no token counts (a streamed /v1 reply whose client did not ask for usage): the counts are foreman's" }),
  },
  { additionalProperties: false },
);

export type Usage = Static<typeof UsageSchema>;
