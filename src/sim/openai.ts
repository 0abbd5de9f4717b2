// The /v1 OpenAI layer as Ollama's middleware runs it: requests rewritten
// into native ones (with the middleware's own 400s), replies rewritten from
// the native chunks into chat.completion / text_completion / embeddings
// shapes, SSE framing (§2.2), and the lossy mid-stream failure Ollama really
// has (§3.4).

import { asObject, decodeV1Body, expectField, goTypeOf, inMiddleware, stringField, type JsonObject } from "./body.ts";
import { openAIModel } from "./catalogue.ts";
import { nowNs } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { embedHandler } from "./embed.ts";
import { SimError } from "./errors.ts";
import { goJson } from "./gojson.ts";
import { chatHandler, generateHandler } from "./handlers.ts";
import { encoded, SSE, sseEvent } from "./http.ts";
import type { Chunk } from "./inference.ts";
import { nativeTools } from "./native.ts";
import { float32Base64, type ToolCall } from "./output.ts";
import type { Writer } from "./render.ts";
import { checkImageURL, isStdBase64, type ChatMessage, type Think } from "./request.ts";
import type { Call } from "./context.ts";

const unixNow = (): number => Number(nowNs() / 1_000_000_000n);

const NO_OUTPUT: Chunk = { content: "", thinking: "", toolCalls: [], done: false };

const dataEvent = (value: unknown): string => sseEvent(goJson(value));

/** What the Responses and Anthropic middlewares add to a streamed reply. */
export const STREAM_HEADERS = { "Cache-Control": "no-cache", Connection: "keep-alive" };

/**
 * A /v1 dialect's writer: SSE frames when streaming (a written response, like
 * a load reply, is framed too), else one object through json.Encoder. A break
 * reaches it as the native `{"error"}` line, which it reads as an empty chunk.
 */
export function v1Writer(streaming: boolean, frames: (c: Chunk) => string, whole: (c: Chunk) => JsonObject, headers: Record<string, string> = {}): Writer {
  return {
    contentType: SSE,
    headers,
    frames,
    reply: (c) => (streaming ? new Response(frames(c), { status: 200, headers: { ...headers, "Content-Type": SSE } }) : encoded(whole(c))),
    broken: () => frames(NO_OUTPUT),
  };
}

/** openai.ToToolCalls: arguments as a JSON string (json.Marshal of the ordered map). */
export const openAIToolCalls = (calls: ToolCall[]): JsonObject[] =>
  calls.map((c) => ({ id: c.id, index: c.index, type: "function", function: { name: c.name, arguments: goJson(c.arguments) } }));

function usageOf(chunk: Chunk): JsonObject {
  const prompt = chunk.metrics?.prompt_eval_count ?? 0;
  const completion = chunk.metrics?.eval_count ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

const includeUsage = (body: JsonObject): boolean => asObject(body.stream_options).include_usage === true;

/** thinkFromReasoningEffort: OpenAI's effort scale clamped onto Ollama's think levels. */
export function thinkFromEffort(effort: string): Think {
  if (effort === "") return undefined;
  if (effort === "none") return false;
  if (effort === "minimal") return "low";
  if (effort === "low" || effort === "medium" || effort === "high" || effort === "max") return effort;
  if (effort === "xhigh" || effort === "ultra") return "max";
  throw new SimError(400, `invalid reasoning value: ${JSON.stringify(effort)} (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")`);
}

/** The tool calls an OpenAI message carries back; their arguments must be a JSON object. */
function checkToolCallArguments(calls: unknown): void {
  if (!Array.isArray(calls)) return;
  for (const call of calls) {
    try {
      const args: unknown = JSON.parse(stringField(asObject(asObject(call).function), "arguments"));
      if (typeof args !== "object" || args === null || Array.isArray(args)) throw new Error("not an object");
    } catch {
      throw new SimError(400, "invalid tool call arguments");
    }
  }
}

/** openai.FromChatRequest for one message: a string, or parts that each become a message. */
function fromOpenAIMessage(value: unknown): ChatMessage[] {
  const msg = asObject(value);
  const role = stringField(msg, "role");
  const content = msg.content;
  checkToolCallArguments(msg.tool_calls);
  if (typeof content === "string") return [{ role, content }];
  if (!Array.isArray(content)) {
    if (msg.tool_calls === undefined || msg.tool_calls === null) throw new SimError(400, `invalid message content type: ${goTypeOf(content)}`);
    return [{ role, content: "" }];
  }
  return content.map((item: unknown) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new SimError(400, "invalid message format");
    const part = item as JsonObject;
    if (part.type === "text") {
      if (typeof part.text !== "string") throw new SimError(400, "invalid message format");
      return { role, content: part.text };
    }
    if (part.type === "image_url") {
      const url = typeof part.image_url === "string" ? part.image_url : asObject(part.image_url).url;
      if (typeof url !== "string") throw new SimError(400, "invalid message format");
      checkImageURL(url);
      return { role, content: "" };
    }
    if (part.type === "input_audio") {
      const audio = part.input_audio;
      if (typeof audio !== "object" || audio === null) throw new SimError(400, "invalid input_audio format");
      const data = (audio as JsonObject).data;
      if (typeof data !== "string") throw new SimError(400, "invalid input_audio format: missing data");
      if (!isStdBase64(data)) throw new SimError(400, "invalid input_audio base64 data: illegal base64 data");
      return { role, content: "" };
    }
    throw new SimError(400, "invalid message format");
  });
}

/** The numeric fields both request structs decode, type-checked like Go's decode. */
function samplingOptions(body: JsonObject, structName: string, float: "float64" | "float32"): JsonObject {
  for (const field of ["max_tokens", "seed"]) expectField(body, structName, field, "number", "int");
  for (const field of ["temperature", "top_p", "frequency_penalty", "presence_penalty"]) expectField(body, structName, field, "number", float);
  // OpenAI's defaults for temperature and top_p are 1.
  return {
    num_predict: body.max_tokens ?? undefined,
    temperature: body.temperature ?? 1,
    seed: body.seed ?? undefined,
    frequency_penalty: body.frequency_penalty ?? undefined,
    presence_penalty: body.presence_penalty ?? undefined,
    top_p: body.top_p ?? 1,
  };
}

function chatCompletionWriter(model: string, streaming: boolean, withUsage: boolean): Writer {
  const id = `chatcmpl-${Math.floor(Math.random() * 999)}`;
  let created: number | undefined;
  let firstSent = false;
  let toolCallSent = false;
  const head = (): JsonObject => ({ id, object: "chat.completion.chunk", created: (created ??= unixNow()), model, system_fingerprint: "fp_ollama" });
  const frames = (c: Chunk): string => {
    let out = "";
    // The metrics-only done chunk is not turned into an empty content chunk.
    const emptyTrailer = c.done && firstSent && c.content === "" && c.thinking === "" && c.toolCalls.length === 0;
    if (!emptyTrailer) {
      const delta = {
        role: firstSent ? undefined : "assistant",
        content: c.content,
        reasoning: c.thinking || undefined,
        tool_calls: c.toolCalls.length > 0 ? openAIToolCalls(c.toolCalls) : undefined,
      };
      out += dataEvent({ ...head(), choices: [{ index: 0, delta, finish_reason: null }] });
      firstSent = true;
      toolCallSent ||= c.toolCalls.length > 0;
    }
    if (c.done) {
      const reason = (c.doneReason || "stop") === "stop" && toolCallSent ? "tool_calls" : c.doneReason || "stop";
      out += dataEvent({ ...head(), choices: [{ index: 0, delta: {}, finish_reason: reason }] });
      if (withUsage) out += dataEvent({ ...head(), choices: [], usage: usageOf(c) });
      out += sseEvent("[DONE]");
    }
    return out;
  };
  const completion = (c: Chunk): JsonObject => {
    const toolCalls = c.toolCalls.length > 0 ? openAIToolCalls(c.toolCalls) : undefined;
    const reason = c.doneReason === "stop" && toolCalls ? "tool_calls" : c.doneReason || null;
    return {
      id,
      object: "chat.completion",
      created: unixNow(),
      model,
      system_fingerprint: "fp_ollama",
      choices: [{ index: 0, message: { role: "assistant", content: c.content, reasoning: c.thinking || undefined, tool_calls: toolCalls }, finish_reason: reason }],
      usage: usageOf(c),
    };
  };
  return v1Writer(streaming, frames, completion);
}

function completionWriter(model: string, streaming: boolean, withUsage: boolean): Writer {
  const id = `cmpl-${Math.floor(Math.random() * 999)}`;
  const chunk = (choices: JsonObject[], usage: JsonObject | undefined): JsonObject => ({
    id,
    object: "text_completion",
    created: unixNow(),
    choices,
    model,
    system_fingerprint: "fp_ollama",
    usage,
  });
  // With include_usage every chunk carries zero usage; the real usage follows the last one.
  const zero = withUsage ? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } : undefined;
  const frames = (c: Chunk): string => {
    let out = dataEvent(chunk([{ text: c.content, index: 0, finish_reason: c.doneReason || null }], zero));
    if (c.done) {
      if (withUsage) out += dataEvent(chunk([], usageOf(c)));
      out += sseEvent("[DONE]");
    }
    return out;
  };
  const completion = (c: Chunk): JsonObject => ({
    id,
    object: "text_completion",
    created: unixNow(),
    model,
    system_fingerprint: "fp_ollama",
    choices: [{ text: c.content, index: 0, finish_reason: c.doneReason || null }],
    usage: usageOf(c),
  });
  return v1Writer(streaming, frames, completion);
}

export async function chatCompletions(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeV1Body(await req.text(), "ChatCompletionRequest");
  const request = inMiddleware(() => {
    expectField(body, "ChatCompletionRequest", "model", "string");
    expectField(body, "ChatCompletionRequest", "stream", "bool");
    expectField(body, "ChatCompletionRequest", "messages", "array", "[]openai.Message");
    expectField(body, "ChatCompletionRequest", "top_logprobs", "number", "int");
    const messages = Array.isArray(body.messages) ? body.messages : [];
    if (messages.length === 0) throw new SimError(400, "[] is too short - 'messages'");
    const converted = messages.flatMap(fromOpenAIMessage);
    const reasoning = body.reasoning === undefined || body.reasoning === null ? undefined : stringField(asObject(body.reasoning), "effort");
    const stop = typeof body.stop === "string" ? [body.stop] : Array.isArray(body.stop) ? body.stop.filter((s) => typeof s === "string") : undefined;
    return {
      model: stringField(body, "model"),
      messages: converted,
      tools: nativeTools(body.tools),
      think: thinkFromEffort(reasoning ?? stringField(body, "reasoning_effort")),
      options: { ...samplingOptions(body, "ChatCompletionRequest", "float64"), stop },
      keepAlive: undefined,
      topLogprobs: typeof body.top_logprobs === "number" ? body.top_logprobs : 0,
      stream: body.stream === true,
    };
  });
  return chatHandler(ctx, request, chatCompletionWriter(request.model, request.stream, includeUsage(body)), call);
}

export async function completions(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeV1Body(await req.text(), "CompletionRequest");
  const request = inMiddleware(() => {
    for (const field of ["prompt", "suffix", "model"]) expectField(body, "CompletionRequest", field, "string");
    expectField(body, "CompletionRequest", "stream", "bool");
    expectField(body, "CompletionRequest", "logprobs", "number", "int");
    let stop: string[] | undefined;
    if (typeof body.stop === "string") stop = [body.stop];
    else if (Array.isArray(body.stop)) {
      const bad = body.stop.find((s) => typeof s !== "string");
      if (bad !== undefined) throw new SimError(400, `invalid type for 'stop' field: ${goTypeOf(bad)}`);
      stop = body.stop as string[];
    }
    const logprobs = typeof body.logprobs === "number" && body.logprobs > 0 ? body.logprobs : 0;
    return {
      model: stringField(body, "model"),
      prompt: stringField(body, "prompt"),
      suffix: stringField(body, "suffix"),
      system: "",
      template: "",
      context: [],
      raw: false,
      think: undefined,
      options: { ...samplingOptions(body, "CompletionRequest", "float32"), stop },
      keepAlive: undefined,
      topLogprobs: logprobs,
      stream: body.stream === true,
    };
  });
  return generateHandler(ctx, request, completionWriter(request.model, request.stream, includeUsage(body)), call);
}

export async function embeddingsV1(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeV1Body(await req.text(), "EmbedRequest");
  const format = stringField(body, "encoding_format");
  inMiddleware(() => {
    expectField(body, "EmbedRequest", "model", "string");
    if (format !== "" && !["float", "base64"].includes(format.toLowerCase())) {
      throw new SimError(400, `Invalid value for 'encoding_format' = ${format}. Supported values: ['float', 'base64'].`);
    }
    if (body.input === undefined || body.input === null || (Array.isArray(body.input) && body.input.length === 0)) throw new SimError(400, "invalid input");
  });
  const model = stringField(body, "model");
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : 0;
  const input = body.input === "" ? [""] : body.input;
  const out = await embedHandler(ctx, { model, input, truncate: true, dimensions, keepAlive: undefined, options: {} }, call);
  const base64 = format.toLowerCase() === "base64";
  return encoded({
    object: "list",
    data: (out?.vectors ?? []).map((v, index) => ({ object: "embedding", embedding: base64 ? float32Base64(v) : v, index })),
    model,
    usage: { prompt_tokens: out?.promptTokens ?? 0, total_tokens: out?.promptTokens ?? 0 },
  });
}

export function listModels(ctx: SimContext): Response {
  const data = ctx.catalogue.list().map((e) => openAIModel(e));
  return encoded({ object: "list", data: data.length === 0 ? null : data });
}

export function retrieveModel(ctx: SimContext, id: string): Response {
  const entry = ctx.catalogue.find(id);
  if (!entry) throw new SimError(404, `model '${id}' not found`);
  return encoded(openAIModel(entry, id));
}
