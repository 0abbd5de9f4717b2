// POST /api/chat and /api/generate: the native bodies decoded as Go's typed
// decode reads them, and the native writers: NDJSON chunks (§2.1), one JSON
// object for stream:false and load/unload replies, `{"error"}` on a break.

import { asObject, decodeBody, expectField, stringField, type JsonObject } from "./body.ts";
import { utcStamp } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { parseKeepAlive } from "./duration.ts";
import { goMap } from "./gojson.ts";
import { chatHandler, generateHandler } from "./handlers.ts";
import { json, NDJSON, ndjsonLine } from "./http.ts";
import type { Chunk, Metrics } from "./inference.ts";
import type { ToolCall, ToolSpec } from "./output.ts";
import type { Writer } from "./render.ts";
import { optionsOf, thinkValue, type ChatMessage } from "./request.ts";
import type { Call } from "./context.ts";

/** Metrics with zeros omitted, in Ollama's key order. */
function metricFields(metrics: Metrics | undefined): JsonObject {
  return Object.fromEntries(Object.entries(metrics ?? {}).filter(([, v]) => v !== 0));
}

/** api.ToolCall: the id, then the function with its index and ordered arguments. */
const nativeToolCalls = (calls: ToolCall[]): JsonObject[] | undefined =>
  calls.length === 0 ? undefined : calls.map((c) => ({ id: c.id, function: { index: c.index, name: c.name, arguments: c.arguments } }));

/** A writer for one native response shape. */
function nativeWriter(shape: (chunk: Chunk) => JsonObject): Writer {
  return {
    contentType: NDJSON,
    frames: (chunk) => ndjsonLine(shape(chunk)),
    reply: (chunk) => json(shape(chunk)),
    // streamResponse writes gin.H{"error": …} with json.Encoder.
    broken: (message) => ndjsonLine(goMap({ error: message })),
  };
}

const chatWriter = (model: string): Writer =>
  nativeWriter((c) => ({
    model,
    created_at: utcStamp(),
    message: { role: "assistant", content: c.content, thinking: c.thinking || undefined, tool_calls: nativeToolCalls(c.toolCalls) },
    done: c.done,
    done_reason: c.doneReason,
    ...metricFields(c.metrics),
  }));

const generateWriter = (model: string, raw: boolean): Writer =>
  nativeWriter((c) => ({
    model,
    created_at: utcStamp(),
    response: c.content,
    thinking: c.thinking || undefined,
    done: c.done,
    done_reason: c.doneReason,
    context: raw ? undefined : c.context,
    ...metricFields(c.metrics),
  }));

/** Fields chat and generate share, type-checked like Go's decode. */
function common(body: JsonObject, structName: string) {
  expectField(body, structName, "model", "string");
  expectField(body, structName, "stream", "bool");
  expectField(body, structName, "shift", "bool");
  expectField(body, structName, "truncate", "bool");
  expectField(body, structName, "top_logprobs", "number", "int");
  return {
    model: stringField(body, "model"),
    stream: body.stream !== false,
    keepAlive: parseKeepAlive(body.keep_alive),
    options: optionsOf(body, structName),
    think: thinkValue(body.think),
    shift: typeof body.shift === "boolean" ? body.shift : undefined,
    truncate: typeof body.truncate === "boolean" ? body.truncate : undefined,
    topLogprobs: typeof body.top_logprobs === "number" ? body.top_logprobs : 0,
  };
}

/** api.Tools: each `{type, function: {name, description, parameters}}`. */
export function nativeTools(tools: unknown): ToolSpec[] {
  if (!Array.isArray(tools)) return [];
  return tools.map((t) => {
    const fn = asObject(asObject(t).function);
    return { name: stringField(fn, "name"), parameters: fn.parameters };
  });
}

export async function chat(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "ChatRequest");
  expectField(body, "ChatRequest", "messages", "array", "[]api.Message");
  expectField(body, "ChatRequest", "tools", "array", "api.Tools");
  const c = common(body, "ChatRequest");
  const messages: ChatMessage[] = (Array.isArray(body.messages) ? body.messages : []).map((m) => {
    const message = asObject(m);
    expectField(message, "ChatRequest.messages", "content", "string");
    return { role: stringField(message, "role").toLowerCase(), content: stringField(message, "content") };
  });
  return chatHandler(ctx, { ...c, messages, tools: nativeTools(body.tools) }, chatWriter(c.model), call);
}

export async function generate(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "GenerateRequest");
  for (const field of ["prompt", "suffix", "system", "template"]) expectField(body, "GenerateRequest", field, "string");
  expectField(body, "GenerateRequest", "raw", "bool");
  expectField(body, "GenerateRequest", "context", "array", "[]int");
  const c = common(body, "GenerateRequest");
  const raw = body.raw === true;
  const request = {
    ...c,
    prompt: stringField(body, "prompt"),
    suffix: stringField(body, "suffix"),
    system: stringField(body, "system"),
    template: stringField(body, "template"),
    context: Array.isArray(body.context) ? body.context.filter((n): n is number => typeof n === "number") : [],
    raw,
  };
  return generateHandler(ctx, request, generateWriter(c.model, raw), call);
}
