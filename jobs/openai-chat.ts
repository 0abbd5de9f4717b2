// POST /v1/chat/completions: SSE `chat.completion.chunk`s with deltas; the artifact is the
// `chat.completion` object the endpoint returns without streaming (usage included).
import { str, type Assembler, type JobKind } from "./kind.ts";
import { openaiAssembler } from "./openai-stream.ts";
import { fieldKindError } from "../src/ollama/go-json.ts";
import { modelRequired, notFoundQuoted, topLogprobsInRange } from "./reading.ts";
import { OpenAIChatRequest } from "./schemas.ts";

function assembler(): Assembler {
  let content = "";
  let reasoning = "";
  const toolCalls: unknown[] = [];
  return openaiAssembler(
    (choice) => {
      const delta = (choice.delta ?? {}) as Record<string, unknown>;
      const text = str(delta.content);
      content += text;
      reasoning += str(delta.reasoning);
      if (Array.isArray(delta.tool_calls)) toolCalls.push(...delta.tool_calls);
      return { text, tokens: text || delta.reasoning ? 1 : 0 };
    },
    ({ finishReason }) => {
      const message: Record<string, unknown> = { role: "assistant", content };
      if (reasoning) message.reasoning = reasoning;
      if (toolCalls.length) message.tool_calls = toolCalls;
      return { object: "chat.completion", choices: [{ index: 0, message, finish_reason: finishReason }] };
    },
  );
}

export const openaiChat: JobKind = {
  endpoint: "/v1/chat/completions",
  request: OpenAIChatRequest,
  reading: {
    struct: ["openai", "ChatCompletionRequest"],
    // the middleware refuses an empty conversation (so /v1 cannot load or unload); the chat handler checks top_logprobs first
    beforeModel: (b) => fieldKindError(b, "ChatCompletionRequest", "messages", "array", "[]openai.Message") ?? (Array.isArray(b.messages) && b.messages.length > 0 ? undefined : "[] is too short - 'messages'"),
    inHandler: (b) => topLogprobsInRange(b),
    noModel: modelRequired,
    notFound: notFoundQuoted,
  },
  jobBody: (body) => ({ ...body, stream: true, stream_options: { include_usage: true } }),
  assembler,
  framing: "sse",
};
