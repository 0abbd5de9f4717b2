// POST /v1/completions: SSE `text_completion` chunks; the artifact is the non-streamed
// `text_completion` object.
import { str, type Assembler, type JobKind } from "./kind.ts";
import { openaiAssembler } from "./openai-stream.ts";
import { modelNotFound, notFoundQuoted, topLogprobsInRange } from "./reading.ts";
import { OpenAICompletionsRequest } from "./schemas.ts";

function assembler(): Assembler {
  let text = "";
  return openaiAssembler(
    (choice) => {
      const piece = str(choice.text);
      text += piece;
      return { text: piece, tokens: piece ? 1 : 0 };
    },
    ({ finishReason }) => ({ object: "text_completion", choices: [{ text, index: 0, finish_reason: finishReason }] }),
  );
}

export const openaiCompletions: JobKind = {
  endpoint: "/v1/completions",
  request: OpenAICompletionsRequest,
  // `logprobs` becomes the generate handler's top_logprobs — passed on only when it is above
  // zero (Ollama's FromCompleteRequest) — and is checked before the model
  reading: { struct: ["openai", "CompletionRequest"], inHandler: (b) => topLogprobsInRange({ top_logprobs: typeof b.logprobs === "number" && b.logprobs > 0 ? b.logprobs : 0 }), noModel: modelNotFound, notFound: notFoundQuoted },
  jobBody: (body) => ({ ...body, stream: true, stream_options: { include_usage: true } }),
  assembler,
  framing: "sse",
};
