// POST /api/chat: NDJSON chunks carrying message.content; the artifact is the final chunk
// with the whole message, as Ollama answers with stream:false.
import { requestedLoad } from "../src/ollama/load-options.ts";
import { str, type Assembler, type JobKind } from "./kind.ts";
import { modelRequired, notFoundQuoted, topLogprobsInRange, unloadIdiom } from "./reading.ts";
import { ChatRequest } from "./schemas.ts";

function assembler(): Assembler {
  let content = "";
  let thinking = "";
  const toolCalls: unknown[] = [];
  let final: Record<string, unknown> | null = null;
  return {
    push(msg) {
      const m = (msg.message ?? {}) as Record<string, unknown>;
      const text = str(m.content);
      content += text;
      thinking += str(m.thinking);
      if (Array.isArray(m.tool_calls)) toolCalls.push(...m.tool_calls);
      if (msg.done === true) {
        final = msg;
        return { text, tokens: 0 };
      }
      return { text, tokens: text || m.thinking ? 1 : 0 };
    },
    get complete() {
      return final !== null;
    },
    result() {
      const message: Record<string, unknown> = { role: "assistant", content };
      if (thinking) message.thinking = thinking;
      if (toolCalls.length) message.tool_calls = toolCalls;
      return { ...final, message };
    },
  };
}

export const chat: JobKind = {
  endpoint: "/api/chat",
  request: ChatRequest,
  reading: { struct: ["api", "ChatRequest"], inHandler: (b) => topLogprobsInRange(b), noModel: modelRequired, notFound: notFoundQuoted, unloads: unloadIdiom("messages") },
  load: requestedLoad,
  jobBody: (body) => ({ ...body, stream: true }),
  assembler,
  framing: "ndjson",
};

