// POST /v1/chat/completions: SSE `chat.completion.chunk`s with deltas; the artifact is the
// `chat.completion` object the endpoint returns without streaming (usage included).
import { openaiStreams, str, type Assembler, type JobKind } from "./kind.ts";
import { OpenAIChatRequest } from "./schemas.ts";

function assembler(): Assembler {
  let head: Record<string, unknown> | null = null;
  let content = "";
  let reasoning = "";
  const toolCalls: unknown[] = [];
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
      if (msg.usage && Array.isArray(msg.choices) && msg.choices.length === 0) usage = msg.usage;
      const choice = (Array.isArray(msg.choices) ? msg.choices[0] : undefined) as Record<string, unknown> | undefined;
      const delta = (choice?.delta ?? {}) as Record<string, unknown>;
      const text = str(delta.content);
      content += text;
      reasoning += str(delta.reasoning);
      if (Array.isArray(delta.tool_calls)) toolCalls.push(...delta.tool_calls);
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      return { text, tokens: text || delta.reasoning ? 1 : 0 };
    },
    get complete() {
      return done;
    },
    result() {
      const message: Record<string, unknown> = { role: "assistant", content };
      if (reasoning) message.reasoning = reasoning;
      if (toolCalls.length) message.tool_calls = toolCalls;
      return {
        id: head?.id,
        object: "chat.completion",
        created: head?.created,
        model: head?.model,
        system_fingerprint: head?.system_fingerprint,
        choices: [{ index: 0, message, finish_reason: finishReason }],
        ...(usage ? { usage } : {}),
      };
    },
  };
}

/** The `data: [DONE]` sentinel, as the stream reader hands it to assemblers. */
export const DONE: Record<string, unknown> = Object.freeze({ "[DONE]": true });

export const openaiChat: JobKind = {
  endpoint: "/v1/chat/completions",
  dialect: "openai",
  request: OpenAIChatRequest,
  streams: openaiStreams,
  jobBody: (body) => ({ ...body, stream: true, stream_options: { include_usage: true } }),
  assembler,
  framing: "sse",
};
