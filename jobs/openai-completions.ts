// POST /v1/completions: SSE `text_completion` chunks; the artifact is the non-streamed
// `text_completion` object.
import { openaiStreams, str, type Assembler, type JobKind } from "./kind.ts";
import { DONE } from "./openai-chat.ts";
import { OpenAICompletionsRequest } from "./schemas.ts";

function assembler(): Assembler {
  let head: Record<string, unknown> | null = null;
  let text = "";
  let finishReason: unknown = null;
  let usage: unknown;
  let done = false;
  return {
    push(msg) {
      if (msg === DONE) {
        done = true;
        return { text: "", tokens: 0 };
      }
      head ??= msg;
      const choices = Array.isArray(msg.choices) ? msg.choices : [];
      if (choices.length === 0 && msg.usage) usage = msg.usage;
      const choice = choices[0] as Record<string, unknown> | undefined;
      const piece = str(choice?.text);
      text += piece;
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      return { text: piece, tokens: piece ? 1 : 0 };
    },
    get complete() {
      return done;
    },
    result() {
      return {
        id: head?.id,
        object: "text_completion",
        created: head?.created,
        model: head?.model,
        system_fingerprint: head?.system_fingerprint,
        choices: [{ text, index: 0, finish_reason: finishReason }],
        ...(usage ? { usage } : {}),
      };
    },
  };
}

export const openaiCompletions: JobKind = {
  endpoint: "/v1/completions",
  dialect: "openai",
  request: OpenAICompletionsRequest,
  streams: openaiStreams,
  jobBody: (body) => ({ ...body, stream: true, stream_options: { include_usage: true } }),
  assembler,
  framing: "sse",
};
