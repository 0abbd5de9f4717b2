// POST /api/generate: NDJSON chunks carrying `response`; the artifact is the final chunk
// (with `context` and metrics) holding the whole response text.
import { requestedLoad } from "../src/ollama/load-options.ts";
import { str, type Assembler, type JobKind } from "./kind.ts";
import { modelNotFound, notFoundQuoted, topLogprobsInRange, unloadIdiom } from "./reading.ts";
import { GenerateRequest } from "./schemas.ts";

function assembler(): Assembler {
  let response = "";
  let thinking = "";
  let final: Record<string, unknown> | null = null;
  return {
    push(msg) {
      const text = str(msg.response);
      response += text;
      thinking += str(msg.thinking);
      if (msg.done === true) {
        final = msg;
        return { text, tokens: 0 };
      }
      return { text, tokens: text || msg.thinking ? 1 : 0 };
    },
    get complete() {
      return final !== null;
    },
    result() {
      return { ...final, response, ...(thinking ? { thinking } : {}) };
    },
  };
}

export const generate: JobKind = {
  endpoint: "/api/generate",
  request: GenerateRequest,
  reading: { struct: ["api", "GenerateRequest"], inHandler: (b) => topLogprobsInRange(b), noModel: modelNotFound, notFound: notFoundQuoted, unloads: unloadIdiom("prompt") },
  load: requestedLoad,
  jobBody: (body) => ({ ...body, stream: true }),
  assembler,
  framing: "ndjson",
};
