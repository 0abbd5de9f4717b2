// What the two streamed OpenAI endpoints share: the first chunk's envelope (id, created,
// model, fingerprint), the finish reason, the usage chunk and the [DONE] sentinel. Each
// endpoint only says how to read text from a choice and how its artifact looks.
import type { Assembler } from "./kind.ts";

/** The `data: [DONE]` sentinel, as the stream reader hands it to assemblers. */
export const DONE: Record<string, unknown> = Object.freeze({ "[DONE]": true });

export interface OpenAIStream {
  head: Record<string, unknown> | null;
  finishReason: unknown;
  usage: unknown;
}

export function openaiAssembler(
  read: (choice: Record<string, unknown>) => { text: string; tokens: number },
  build: (stream: OpenAIStream) => { object: string; choices: unknown[] },
): Assembler {
  const stream: OpenAIStream = { head: null, finishReason: null, usage: undefined };
  let done = false;
  return {
    push(msg) {
      if (msg === DONE) {
        done = true;
        return { text: "", tokens: 0 };
      }
      stream.head ??= msg;
      const choices = Array.isArray(msg.choices) ? msg.choices : [];
      if (choices.length === 0 && msg.usage) stream.usage = msg.usage;
      const choice = choices[0] as Record<string, unknown> | undefined;
      if (choice?.finish_reason) stream.finishReason = choice.finish_reason;
      return choice ? read(choice) : { text: "", tokens: 0 };
    },
    get complete() {
      return done;
    },
    result() {
      const { head, usage } = stream;
      const { object, choices } = build(stream);
      // the key order of the endpoint's non-streamed reply
      return { id: head?.id, object, created: head?.created, model: head?.model, system_fingerprint: head?.system_fingerprint, choices, ...(usage ? { usage } : {}) };
    },
  };
}
