// POST /v1/responses (the OpenAI Responses API Ollama serves): named SSE events
// (response.created … response.completed); the artifact is the `response` object the endpoint
// returns without streaming. The completed event carries that object whole, as a Go map with
// sorted keys, so the assembler only puts its keys back in the non-streamed reply's order.
import { str, type Assembler, type JobKind } from "./kind.ts";
import { modelRequired, notFoundQuoted } from "./reading.ts";
import { ResponsesRequest } from "./schemas.ts";

/** openai.ResponsesResponse's field order, and that of the output items and their parts. */
const RESPONSE_KEYS = ["id", "object", "created_at", "completed_at", "status", "incomplete_details", "model", "previous_response_id", "instructions", "output", "error", "tools", "tool_choice", "truncation", "parallel_tool_calls", "text", "top_p", "presence_penalty", "frequency_penalty", "top_logprobs", "temperature", "reasoning", "usage", "max_output_tokens", "max_tool_calls", "store", "background", "service_tier", "metadata", "safety_identifier", "prompt_cache_key"];
const ITEM_KEYS = ["id", "type", "status", "call_id", "role", "name", "arguments", "content", "summary", "encrypted_content"];
const PART_KEYS = ["type", "text", "annotations", "logprobs"];
const USAGE_KEYS = ["input_tokens", "output_tokens", "total_tokens", "input_tokens_details", "output_tokens_details"];
const TOOL_KEYS = ["type", "name", "description", "strict", "parameters"];

type Json = Record<string, unknown>;

/** `value`'s keys in `order` first (those it has), then any others as they came. */
function ordered(value: unknown, order: readonly string[]): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const object = value as Json;
  const keys = [...order.filter((k) => k in object), ...Object.keys(object).filter((k) => !order.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, object[k]]));
}

const list = (value: unknown, each: (v: unknown) => unknown): unknown => (Array.isArray(value) ? value.map(each) : value);

function nonStreamedShape(response: Json): Json {
  const item = (v: unknown) => {
    const it = ordered(v, ITEM_KEYS) as Json;
    return { ...it, ...("content" in it ? { content: list(it.content, (p) => ordered(p, PART_KEYS)) } : {}), ...("summary" in it ? { summary: list(it.summary, (p) => ordered(p, PART_KEYS)) } : {}) };
  };
  const r = ordered(response, RESPONSE_KEYS) as Json;
  return { ...r, output: list(r.output, item), tools: list(r.tools, (t) => ordered(t, TOOL_KEYS)), usage: ordered(r.usage, USAGE_KEYS) };
}

function assembler(): Assembler {
  let final: Json | null = null;
  return {
    push(event) {
      switch (event.type) {
        case "response.output_text.delta": {
          const text = str(event.delta);
          return { text, tokens: text ? 1 : 0 };
        }
        case "response.reasoning_summary_text.delta":
          return { text: "", tokens: str(event.delta) ? 1 : 0 };
        case "response.completed":
          final = (event.response ?? {}) as Json;
          return { text: "", tokens: 0 };
        default:
          return { text: "", tokens: 0 };
      }
    },
    get complete() {
      return final !== null;
    },
    result() {
      return nonStreamedShape(final ?? {});
    },
  };
}

export const openaiResponses: JobKind = {
  endpoint: "/v1/responses",
  request: ResponsesRequest,
  reading: { struct: ["openai", "ResponsesRequest"], noModel: modelRequired, notFound: notFoundQuoted },
  jobBody: (body) => ({ ...body, stream: true }),
  assembler,
  framing: "sse",
};
