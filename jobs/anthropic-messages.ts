// POST /v1/messages (Anthropic's Messages API, which Ollama serves): named SSE events
// message_start, content_block_start/_delta/_stop, message_delta, message_stop; the artifact is
// the `message` object the endpoint returns without streaming, its content blocks rebuilt from
// the deltas (a tool_use block's input from its partial JSON).
import { str, type Assembler, type JobKind } from "./kind.ts";
import { fieldKindError } from "../src/ollama/go-json.ts";
import { modelRequired, notFoundQuoted } from "./reading.ts";
import { AnthropicMessagesRequest } from "./schemas.ts";

type Json = Record<string, unknown>;

/** The middleware's checks, in its order, before the request becomes a chat: model, max_tokens, messages. */
function beforeModel(body: Json): string | undefined {
  const wrongKind = fieldKindError(body, "MessagesRequest", "max_tokens", "number", "int") ?? fieldKindError(body, "MessagesRequest", "messages", "array", "[]anthropic.MessageParam");
  if (wrongKind) return wrongKind;
  if (typeof body.model !== "string" || body.model === "") return "model is required";
  if (!(typeof body.max_tokens === "number" && Math.trunc(body.max_tokens) > 0)) return "max_tokens is required and must be positive";
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "messages is required";
  return undefined;
}

function assembler(): Assembler {
  let head: Json = {};
  const blocks: Json[] = [];
  const partialJson: string[] = [];
  let delta: Json = {};
  let usage: Json | undefined;
  let stopped = false;
  return {
    push(event) {
      const index = typeof event.index === "number" ? event.index : -1;
      switch (event.type) {
        case "message_start":
          head = (event.message ?? {}) as Json;
          break;
        case "content_block_start":
          blocks[index] = { ...((event.content_block ?? {}) as Json) };
          partialJson[index] = "";
          break;
        case "content_block_delta": {
          const block = blocks[index];
          const d = (event.delta ?? {}) as Json;
          if (!block) break;
          if (d.type === "text_delta") {
            block.text = str(block.text) + str(d.text);
            return { text: str(d.text), tokens: d.text ? 1 : 0 };
          }
          if (d.type === "thinking_delta") {
            block.thinking = str(block.thinking) + str(d.thinking);
            return { text: "", tokens: d.thinking ? 1 : 0 };
          }
          if (d.type === "signature_delta") block.signature = str(d.signature);
          if (d.type === "input_json_delta") partialJson[index] += str(d.partial_json);
          break;
        }
        case "content_block_stop": {
          const block = blocks[index];
          if (block?.type === "tool_use" && partialJson[index]) block.input = JSON.parse(partialJson[index]!) as unknown;
          break;
        }
        case "message_delta":
          delta = (event.delta ?? {}) as Json;
          usage = event.usage as Json | undefined;
          break;
        case "message_stop":
          stopped = true;
          break;
      }
      return { text: "", tokens: 0 };
    },
    get complete() {
      return stopped;
    },
    result() {
      const content = blocks.filter((b) => b !== undefined);
      const totals = { ...((head.usage ?? {}) as Json), ...usage };
      return {
        id: head.id,
        type: "message",
        role: head.role ?? "assistant",
        model: head.model,
        // Go's nil slice: null when the model said nothing
        content: content.length > 0 ? content : null,
        ...(delta.stop_reason ? { stop_reason: delta.stop_reason } : {}),
        ...(delta.stop_sequence ? { stop_sequence: delta.stop_sequence } : {}),
        usage: { input_tokens: totals.input_tokens ?? 0, output_tokens: totals.output_tokens ?? 0 },
      };
    },
  };
}

export const anthropicMessages: JobKind = {
  endpoint: "/v1/messages",
  request: AnthropicMessagesRequest,
  reading: { struct: ["anthropic", "MessagesRequest"], beforeModel, noModel: modelRequired, notFound: notFoundQuoted },
  jobBody: (body) => ({ ...body, stream: true }),
  assembler,
  framing: "sse",
};
