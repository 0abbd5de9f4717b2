// POST /v1/messages as Ollama serves Anthropic's Messages API
// (anthropic/anthropic.go, middleware.AnthropicMessagesMiddleware): the
// request becomes a native chat (thinking asked of a model without it is
// dropped, not refused), the reply is a `message` object or the named SSE
// events message_start … message_stop, and errors are Anthropic's
// `{"type":"error","error":{…},"request_id":…}`. The server-side web_search
// tool is not simulated. max_tokens (mandatory here) only caps the simulated
// reply instead of setting its length as num_predict does elsewhere.

import { generateId } from "../ollama/anthropic-error.ts";
import { asObject, decodeV1Body, expectField, inMiddleware, stringField, type JsonObject } from "./body.ts";
import { jsonKind } from "../ollama/go-json.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { goJson } from "./gojson.ts";
import { chatHandler, type ChatRequest } from "./handlers.ts";
import type { Chunk } from "./inference.ts";
import { STREAM_HEADERS, v1Writer } from "./openai.ts";
import type { ToolCall, ToolSpec } from "./output.ts";
import type { Writer } from "./render.ts";
import { isStdBase64, type ChatMessage, type Think } from "./request.ts";
import type { Call } from "./context.ts";

const bytes = (text: string): number => Buffer.byteLength(text, "utf8");

/** A message's content blocks: a plain string is one text block. */
const blocksOf = (content: unknown): JsonObject[] =>
  typeof content === "string" ? [{ type: "text", text: content }] : Array.isArray(content) ? content.map(asObject) : [];

/** resolveImageSource's checks. */
function checkImage(block: JsonObject): void {
  if (block.source === undefined || block.source === null) throw new SimError(400, "invalid image source");
  const source = asObject(block.source);
  const type = stringField(source, "type");
  if (type !== "base64") throw new SimError(400, `invalid image source type: ${type}. Only base64 images are supported.`);
  if (!isStdBase64(stringField(source, "data"))) throw new SimError(400, "invalid base64 image data: illegal base64 data at input byte 0");
}

/** A tool_result's content: a string, or the text of its text blocks. */
function toolResultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map(asObject)
    .map((b) => {
      if (b.type === "image") checkImage(b);
      return b.type === "text" ? stringField(b, "text") : "";
    })
    .join("");
}

/** convertMessage: tool results become tool messages (before a user's own text), the rest one message. */
function convertMessage(value: unknown): ChatMessage[] {
  const msg = asObject(value);
  const role = stringField(msg, "role").toLowerCase();
  let text = "";
  let other = false;
  const results: ChatMessage[] = [];
  for (const block of blocksOf(msg.content)) {
    const type = stringField(block, "type");
    if (type === "text") text += stringField(block, "text");
    else if (type === "image") {
      checkImage(block);
      other = true;
    } else if (type === "tool_use") {
      if (stringField(block, "id") === "") throw new SimError(400, "tool_use block missing required 'id' field");
      if (stringField(block, "name") === "") throw new SimError(400, "tool_use block missing required 'name' field");
      other = true;
    } else if (type === "tool_result") results.push({ role: "tool", content: toolResultText(block.content) });
    else if (type === "thinking" || type === "server_tool_use") other = true;
  }
  const own = text !== "" || other ? [{ role, content: text }] : [];
  return role === "user" ? [...results, ...own] : [...own, ...results];
}

/** The thinking a request asks for: `thinking.type`, else output_config.effort. */
function thinkOf(body: JsonObject): Think {
  const thinking = stringField(asObject(body.thinking), "type");
  if (thinking === "enabled") return true;
  if (thinking === "disabled") return false;
  let effort = stringField(asObject(body.output_config), "effort").trim().toLowerCase();
  if (effort === "xhigh") effort = "high";
  return effort === "high" || effort === "medium" || effort === "low" || effort === "max" ? effort : undefined;
}

function toolSpecs(tools: unknown): ToolSpec[] {
  if (!Array.isArray(tools)) return [];
  return tools.map(asObject).flatMap((tool) => {
    if (stringField(tool, "type").startsWith("web_search")) return [];
    const name = stringField(tool, "name");
    const schema = tool.input_schema;
    if (schema !== undefined && schema !== null && jsonKind(schema) !== "object") {
      throw new SimError(400, `invalid input_schema for tool ${JSON.stringify(name)}: json: cannot unmarshal ${jsonKind(schema)} into Go value of type api.ToolFunctionParameters`);
    }
    return [{ name, parameters: schema }];
  });
}

/** EstimateInputTokens: bytes of the text-ish parts over 4, at least 1 — what message_start reports. */
function estimateInputTokens(body: JsonObject): number {
  const blockBytes = (block: JsonObject): number =>
    bytes(stringField(block, "text")) + bytes(stringField(block, "thinking")) + (block.type === "tool_use" || block.type === "tool_result" ? bytes(goJson(block)) : 0);
  let total = typeof body.system === "string" ? bytes(body.system) : Array.isArray(body.system) ? body.system.map(asObject).reduce((n, b) => n + blockBytes(b), 0) : 0;
  const messages = Array.isArray(body.messages) ? body.messages.map(asObject) : [];
  for (const m of messages) total += bytes(stringField(m, "role")) + blocksOf(m.content).reduce((n, b) => n + blockBytes(b), 0);
  for (const t of Array.isArray(body.tools) ? body.tools.map(asObject) : []) {
    total += bytes(stringField(t, "name")) + bytes(stringField(t, "description")) + (t.input_schema === undefined ? 0 : bytes(JSON.stringify(t.input_schema)));
  }
  const tokens = Math.floor(total / 4);
  return tokens === 0 && (messages.length > 0 || (body.system !== undefined && body.system !== null)) ? 1 : tokens;
}

function fromRequest(body: JsonObject): ChatRequest {
  expectField(body, "MessagesRequest", "model", "string");
  expectField(body, "MessagesRequest", "max_tokens", "number", "int");
  expectField(body, "MessagesRequest", "stream", "bool");
  expectField(body, "MessagesRequest", "messages", "array", "[]anthropic.MessageParam");
  const model = stringField(body, "model");
  if (model === "") throw new SimError(400, "model is required");
  const maxTokens = typeof body.max_tokens === "number" ? Math.trunc(body.max_tokens) : 0;
  if (maxTokens <= 0) throw new SimError(400, "max_tokens is required and must be positive");
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (messages.length === 0) throw new SimError(400, "messages is required");
  const system = typeof body.system === "string" ? body.system : Array.isArray(body.system) ? body.system.map(asObject).map((b) => (b.type === "text" ? stringField(b, "text") : "")).join("") : "";
  return {
    model,
    messages: [...(system === "" ? [] : [{ role: "system", content: system }]), ...messages.flatMap(convertMessage)],
    tools: toolSpecs(body.tools),
    think: thinkOf(body),
    options: { num_predict: maxTokens, temperature: body.temperature, top_p: body.top_p, top_k: body.top_k, stop: body.stop_sequences },
    keepAlive: undefined,
    topLogprobs: 0,
    stream: body.stream === true,
    relaxThinking: true,
    capOnly: true,
  };
}

/** mapStopReason: Ollama's done_reason in Anthropic's words. */
function stopReason(doneReason: string | undefined, toolUse: boolean): string | undefined {
  if (toolUse) return "tool_use";
  if (doneReason === "stop") return "end_turn";
  if (doneReason === "length") return "max_tokens";
  return doneReason ? "stop_sequence" : undefined;
}

const toolUseBlock = (call: ToolCall, input: unknown): JsonObject => ({ type: "tool_use", id: call.id, name: call.name, input });

/** The StreamConverter's events for each chunk, and ToMessagesResponse for a whole reply. */
function anthropicWriter(model: string, streaming: boolean, estimatedInput: number): Writer {
  const id = generateId("msg");
  let firstWrite = true;
  let index = 0;
  let thinkingStarted = false;
  let thinkingDone = false;
  let textStarted = false;
  const toolCallsSent = new Set<string>();
  const event = (type: string, data: JsonObject): string => `event: ${type}\ndata: ${goJson({ type, ...data })}\n\n`;
  const stop = (): string => event("content_block_stop", { index: index++ });

  const frames = (c: Chunk): string => {
    let out = "";
    if (firstWrite) {
      firstWrite = false;
      const input = c.metrics?.prompt_eval_count || estimatedInput;
      out += event("message_start", { message: { id, type: "message", role: "assistant", model, content: [], usage: { input_tokens: input, output_tokens: 0 } } });
    }
    if (c.thinking !== "" && !thinkingDone) {
      if (textStarted) {
        out += stop();
        textStarted = false;
      }
      if (!thinkingStarted) {
        thinkingStarted = true;
        out += event("content_block_start", { index, content_block: { type: "thinking", thinking: "" } });
      }
      out += event("content_block_delta", { index, delta: { type: "thinking_delta", thinking: c.thinking } });
    }
    if (c.content !== "") {
      if (thinkingStarted && !thinkingDone) {
        thinkingDone = true;
        out += stop();
      }
      if (!textStarted) {
        textStarted = true;
        out += event("content_block_start", { index, content_block: { type: "text", text: "" } });
      }
      out += event("content_block_delta", { index, delta: { type: "text_delta", text: c.content } });
    }
    for (const call of c.toolCalls) {
      if (toolCallsSent.has(call.id)) continue;
      if (thinkingStarted && !thinkingDone) {
        thinkingDone = true;
        out += stop();
      }
      if (textStarted) {
        out += stop();
        textStarted = false;
      }
      out += event("content_block_start", { index, content_block: toolUseBlock(call, {}) });
      out += event("content_block_delta", { index, delta: { type: "input_json_delta", partial_json: goJson(call.arguments) } });
      out += stop();
      toolCallsSent.add(call.id);
    }
    if (c.done) {
      if (textStarted || (thinkingStarted && !thinkingDone)) out += event("content_block_stop", { index });
      out += event("message_delta", {
        delta: { stop_reason: stopReason(c.doneReason, toolCallsSent.size > 0) },
        usage: { input_tokens: c.metrics?.prompt_eval_count ?? 0, output_tokens: c.metrics?.eval_count ?? 0 },
      });
      out += event("message_stop", {});
    }
    return out;
  };

  const message = (c: Chunk): JsonObject => {
    const content = [
      ...(c.thinking !== "" ? [{ type: "thinking", thinking: c.thinking }] : []),
      ...(c.content !== "" ? [{ type: "text", text: c.content }] : []),
      ...c.toolCalls.map((call) => toolUseBlock(call, call.arguments)),
    ];
    return {
      id,
      type: "message",
      role: "assistant",
      model,
      // A nil slice in Go: null when there is nothing to say.
      content: content.length > 0 ? content : null,
      stop_reason: stopReason(c.doneReason, c.toolCalls.length > 0),
      usage: { input_tokens: c.metrics?.prompt_eval_count ?? 0, output_tokens: c.metrics?.eval_count ?? 0 },
    };
  };

  return v1Writer(streaming, frames, message, STREAM_HEADERS);
}

export async function messages(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeV1Body(await req.text(), "MessagesRequest", "anthropic");
  const chat = inMiddleware(() => fromRequest(body));
  return chatHandler(ctx, chat, anthropicWriter(chat.model, chat.stream, estimateInputTokens(body)), call);
}
