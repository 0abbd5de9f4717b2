// POST /v1/responses as Ollama serves the OpenAI Responses API
// (openai/responses.go, middleware.ResponsesMiddleware): the request becomes
// a native chat; the reply is one `response` object, or named SSE events
// (response.created … response.completed) from a stream converter whose
// payloads are Go maps, so their keys come out sorted. The built-in
// web_search tool (Ollama runs the search server-side) is not simulated.

import { asObject, decodeV1Body, expectField, inMiddleware, stringField, type JsonObject } from "./body.ts";
import { nowNs } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { asGoAny, goJson, goMap } from "./gojson.ts";
import { scanJson } from "../ollama/go-json.ts";
import { chatHandler, type ChatRequest } from "./handlers.ts";
import type { Chunk } from "./inference.ts";
import { openAIToolCalls, STREAM_HEADERS, thinkFromEffort, v1Writer } from "./openai.ts";
import type { ToolSpec } from "./output.ts";
import type { Writer } from "./render.ts";
import { checkImageURL, type ChatMessage } from "./request.ts";
import type { Call } from "./context.ts";
import { jsonKind } from "../ollama/go-json.ts";

/** What the reply echoes back from the request. */
interface Echo {
  model: string;
  instructions: string;
  truncation: string | undefined;
  tools: JsonObject[] | undefined;
  textFormat: JsonObject | undefined;
  effort: string;
  summary: string;
  topP: number | undefined;
  temperature: number | undefined;
  maxOutputTokens: number | undefined;
  background: boolean;
}

const unixNow = (): number => Number(nowNs() / 1_000_000_000n);
const randomInt = (below: number): number => Math.floor(Math.random() * below);

/** A content item's text: input_text/output_text count, images are checked, files refused. */
function contentText(items: unknown, where: string): string {
  if (typeof items === "string") return items;
  if (items === undefined || items === null) return "";
  if (!Array.isArray(items)) throw new SimError(400, `${where}content must be a string or array: json: cannot unmarshal ${jsonKind(items)} into Go value of type []json.RawMessage`);
  let text = "";
  for (const [i, raw] of items.entries()) {
    const item = asObject(raw);
    const type = stringField(item, "type");
    if (type === "input_text" || type === "output_text") text += stringField(item, "text");
    else if (type === "input_image") {
      const url = stringField(item, "image_url");
      if (url !== "") checkImageURL(url);
    } else if (type === "input_file") throw new SimError(400, "file inputs are not currently supported");
    else throw new SimError(400, `${where}content[${i}]: unknown content type: ${type}`);
  }
  return text;
}

/** openai.FromResponsesRequest, as far as the simulated model reads it. */
function toMessages(body: JsonObject): ChatMessage[] {
  const messages: ChatMessage[] = [];
  const instructions = stringField(body, "instructions");
  if (instructions !== "") messages.push({ role: "system", content: instructions });
  const input = body.input;
  if (typeof input === "string") {
    if (input !== "") messages.push({ role: "user", content: input });
    return messages;
  }
  if (input === undefined || input === null) return messages;
  if (!Array.isArray(input)) throw new SimError(400, `input must be a string or array: json: cannot unmarshal ${jsonKind(input)} into Go value of type []json.RawMessage`);
  for (const [i, raw] of input.entries()) {
    const item = asObject(raw);
    const type = stringField(item, "type") || (stringField(item, "role") !== "" ? "message" : "");
    const where = `input[${i}]: `;
    if (type === "message") messages.push({ role: stringField(item, "role"), content: contentText(item.content, where) });
    else if (type === "function_call") {
      const args = stringField(item, "arguments");
      const scanned = args === "" ? { end: 0 } : scanJson(args);
      if ("error" in scanned) throw new SimError(400, `failed to parse function call arguments: ${scanned.error}`);
      messages.push({ role: "assistant", content: "" });
    } else if (type === "function_call_output") messages.push({ role: "tool", content: contentText(item.output, where) });
    else if (type !== "reasoning" && type !== "web_search_call") {
      throw new SimError(400, type === "" ? `${where}input item missing required 'type' field` : `${where}unknown input item type: ${JSON.stringify(type)}`);
    }
  }
  return messages;
}

/** Function tools, namespace members flattened under `namespace.`. */
function toolSpecs(tools: unknown, prefix = ""): ToolSpec[] {
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((raw) => {
    const tool = asObject(raw);
    const name = stringField(tool, "name");
    if (tool.type === "web_search") return [];
    if (tool.type === "namespace") return toolSpecs(tool.tools, name === "" ? prefix : `${prefix}${name}.`);
    return [{ name: `${prefix}${name}`, parameters: tool.parameters }];
  });
}

const numberOr = (value: unknown): number | undefined => (typeof value === "number" ? value : undefined);

function fromRequest(body: JsonObject): { chat: ChatRequest; echo: Echo } {
  for (const field of ["model", "instructions"]) expectField(body, "ResponsesRequest", field, "string");
  for (const field of ["stream", "background"]) expectField(body, "ResponsesRequest", field, "bool");
  expectField(body, "ResponsesRequest", "max_output_tokens", "number", "int");
  for (const field of ["temperature", "top_p"]) expectField(body, "ResponsesRequest", field, "number", "float64");
  expectField(body, "ResponsesRequest", "tools", "array", "[]openai.ResponsesTool");
  const reasoning = asObject(body.reasoning);
  const text = asObject(body.text);
  const echo: Echo = {
    model: stringField(body, "model"),
    instructions: stringField(body, "instructions"),
    truncation: typeof body.truncation === "string" ? body.truncation : undefined,
    tools: Array.isArray(body.tools) ? body.tools.map(asObject) : undefined,
    textFormat: text.format === undefined || text.format === null ? undefined : asObject(text.format),
    effort: stringField(reasoning, "effort"),
    summary: stringField(reasoning, "summary"),
    topP: numberOr(body.top_p),
    temperature: numberOr(body.temperature),
    maxOutputTokens: numberOr(body.max_output_tokens),
    background: body.background === true,
  };
  const chat: ChatRequest = {
    model: echo.model,
    messages: toMessages(body),
    tools: toolSpecs(body.tools),
    think: thinkFromEffort(echo.effort),
    options: { temperature: echo.temperature ?? 1, top_p: echo.topP, num_predict: echo.maxOutputTokens },
    keepAlive: undefined,
    topLogprobs: 0,
    stream: body.stream === true,
  };
  return { chat, echo };
}

/** The request's tools as the non-streamed reply echoes them (ResponsesTool structs). */
const echoTool = (tool: JsonObject): JsonObject => ({
  type: stringField(tool, "type"),
  name: stringField(tool, "name"),
  description: typeof tool.description === "string" ? tool.description : null,
  strict: typeof tool.strict === "boolean" ? tool.strict : null,
  parameters: tool.parameters === undefined ? null : asGoAny(tool.parameters),
  tools: Array.isArray(tool.tools) && tool.tools.length > 0 ? tool.tools.map((t) => echoTool(asObject(t))) : undefined,
});

/** ResponsesTextFormat: type, then name/schema/strict when set. */
const textFormatOf = (format: JsonObject | undefined): JsonObject =>
  format === undefined
    ? { type: "text" }
    : { type: stringField(format, "type"), name: stringField(format, "name") || undefined, schema: format.schema ?? undefined, strict: typeof format.strict === "boolean" ? format.strict : undefined };

const outputText = (text: string): JsonObject => ({ type: "output_text", text, annotations: [], logprobs: [] });

/** The response object's fields in ResponsesResponse's order; the parts that differ between the two forms come in. */
function responseFields(
  echo: Echo,
  responseId: string,
  parts: { completedAt: number | null; status: string; output: unknown[]; tools: unknown[]; textFormat: unknown; reasoning: unknown; usage: unknown },
): JsonObject {
  return {
    id: responseId,
    object: "response",
    created_at: unixNow(),
    completed_at: parts.completedAt,
    status: parts.status,
    incomplete_details: null,
    model: echo.model,
    previous_response_id: null,
    instructions: echo.instructions === "" ? null : echo.instructions,
    output: parts.output,
    error: null,
    tools: parts.tools,
    tool_choice: "auto",
    truncation: echo.truncation ?? "disabled",
    parallel_tool_calls: true,
    text: { format: parts.textFormat },
    top_p: echo.topP ?? 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    top_logprobs: 0,
    temperature: echo.temperature ?? 1,
    reasoning: parts.reasoning,
    usage: parts.usage,
    max_output_tokens: echo.maxOutputTokens ?? null,
    max_tool_calls: null,
    store: false,
    background: echo.background,
    service_tier: "default",
    metadata: {},
    safety_identifier: null,
    prompt_cache_key: null,
  };
}

/** Usage from the final chunk; the details are always zero in Ollama. */
function usageFields(c: Chunk): JsonObject {
  const prompt = c.metrics?.prompt_eval_count ?? 0;
  const completion = c.metrics?.eval_count ?? 0;
  return { input_tokens: prompt, output_tokens: completion, total_tokens: prompt + completion, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 0 } };
}

/** openai.ToResponse for the gathered chunk (a struct: field order kept), with the completed_at the writer sets. */
function responseObject(echo: Echo, responseId: string, itemId: string, c: Chunk): JsonObject {
  const output: JsonObject[] = [];
  if (c.thinking !== "") {
    output.push({ id: `rs_${responseId}`, type: "reasoning", summary: [{ type: "summary_text", text: c.thinking }], encrypted_content: c.thinking });
  }
  if (c.toolCalls.length > 0) {
    openAIToolCalls(c.toolCalls).forEach((tc, i) => {
      const fn = asObject(tc.function);
      output.push({ id: `fc_${responseId}_${i}`, type: "function_call", status: "completed", call_id: tc.id, name: fn.name, arguments: fn.arguments });
    });
  } else {
    output.push({ id: itemId, type: "message", status: "completed", role: "assistant", content: [outputText(c.content)] });
  }
  return responseFields(echo, responseId, {
    completedAt: unixNow(),
    status: "completed",
    output,
    tools: (echo.tools ?? []).map(echoTool),
    textFormat: textFormatOf(echo.textFormat),
    reasoning: echo.effort === "" && echo.summary === "" ? null : { effort: echo.effort || undefined, summary: echo.summary || undefined },
    usage: usageFields(c),
  });
}

/** The streamed `response` object: built from Go maps, so every level's keys come out sorted. */
function streamedResponse(echo: Echo, responseId: string, status: string, output: unknown[], usage: JsonObject | null): Map<string, unknown> {
  const tools = (echo.tools ?? []).map((t) =>
    goMap({
      type: stringField(t, "type"),
      name: stringField(t, "name"),
      description: typeof t.description === "string" ? t.description : null,
      strict: typeof t.strict === "boolean" ? t.strict : null,
      parameters: t.parameters === undefined ? null : asGoAny(t.parameters),
    }),
  );
  const fields = responseFields(echo, responseId, {
    completedAt: status === "completed" ? unixNow() : null,
    status,
    output,
    tools,
    textFormat: goMap(textFormatOf(echo.textFormat)),
    reasoning: echo.effort === "" && echo.summary === "" ? null : goMap({ effort: echo.effort || null, summary: echo.summary || null }),
    usage: usage === null ? null : asGoAny(usage),
  });
  return goMap({ ...fields, text: goMap(asObject(fields.text)) });
}

const outputTextPart = (text: string): Map<string, unknown> => goMap({ type: "output_text", text, annotations: [], logprobs: [] });

/** ResponsesStreamConverter: the named events each chunk becomes, and the final object on done. */
function responsesWriter(echo: Echo, streaming: boolean): Writer {
  const responseId = `resp_${randomInt(999999)}`;
  const itemId = `msg_${randomInt(999999)}`;
  let firstWrite = true;
  let outputIndex = 0;
  let sequence = 0;
  let contentStarted = false;
  let toolCallsSent = false;
  let text = "";
  let reasoning: { id: string; text: string } | null = null;
  const completed: unknown[] = [];
  const event = (type: string, data: Record<string, unknown>): string =>
    `event: ${type}\ndata: ${goJson(goMap({ ...data, type, sequence_number: sequence++ }))}\n\n`;

  const finishReasoning = (): string => {
    if (!reasoning) return "";
    const item = goMap({ id: reasoning.id, type: "reasoning", summary: [goMap({ type: "summary_text", text: reasoning.text })], encrypted_content: reasoning.text });
    completed.push(item);
    const out =
      event("response.reasoning_summary_text.done", { item_id: reasoning.id, output_index: outputIndex, summary_index: 0, text: reasoning.text }) +
      event("response.output_item.done", { output_index: outputIndex, item });
    reasoning = null;
    outputIndex++;
    return out;
  };

  const messageItem = (status: string, content: unknown[]): Map<string, unknown> => goMap({ id: itemId, type: "message", status, role: "assistant", content });

  const frames = (c: Chunk): string => {
    let out = "";
    if (firstWrite) {
      firstWrite = false;
      out += event("response.created", { response: streamedResponse(echo, responseId, "in_progress", [], null) });
      out += event("response.in_progress", { response: streamedResponse(echo, responseId, "in_progress", [], null) });
    }
    if (c.thinking !== "") {
      if (!reasoning) {
        reasoning = { id: `rs_${randomInt(999999)}`, text: "" };
        out += event("response.output_item.added", { output_index: outputIndex, item: goMap({ id: reasoning.id, type: "reasoning", summary: [] }) });
      }
      reasoning.text += c.thinking;
      out += event("response.reasoning_summary_text.delta", { item_id: reasoning.id, output_index: outputIndex, summary_index: 0, delta: c.thinking });
    }
    if (c.toolCalls.length > 0) {
      out += finishReasoning();
      openAIToolCalls(c.toolCalls).forEach((tc, i) => {
        const index = outputIndex + i;
        const id = `fc_${randomInt(999999)}_${i}`;
        const fn = asObject(tc.function);
        const item = goMap({ id, type: "function_call", status: "completed", call_id: tc.id, name: fn.name, arguments: fn.arguments });
        completed.push(item);
        out += event("response.output_item.added", {
          output_index: index,
          item: goMap({ id, type: "function_call", status: "in_progress", call_id: tc.id, name: fn.name, arguments: "" }),
        });
        out += event("response.function_call_arguments.delta", { item_id: id, output_index: index, delta: fn.arguments });
        out += event("response.function_call_arguments.done", { item_id: id, output_index: index, arguments: fn.arguments });
        out += event("response.output_item.done", { output_index: index, item });
      });
      outputIndex += c.toolCalls.length;
      toolCallsSent = true;
    } else if (!toolCallsSent && c.content !== "") {
      out += finishReasoning();
      if (!contentStarted) {
        contentStarted = true;
        out += event("response.output_item.added", { output_index: outputIndex, item: messageItem("in_progress", []) });
        out += event("response.content_part.added", { item_id: itemId, output_index: outputIndex, content_index: 0, part: outputTextPart("") });
      }
      text += c.content;
      out += event("response.output_text.delta", { item_id: itemId, output_index: outputIndex, content_index: 0, delta: c.content, logprobs: [] });
    }
    if (c.done) {
      out += finishReasoning();
      if (!toolCallsSent && contentStarted) {
        out += event("response.output_text.done", { item_id: itemId, output_index: outputIndex, content_index: 0, text, logprobs: [] });
        out += event("response.content_part.done", { item_id: itemId, output_index: outputIndex, content_index: 0, part: outputTextPart(text) });
        out += event("response.output_item.done", { output_index: outputIndex, item: messageItem("completed", [outputTextPart(text)]) });
      }
      const output = contentStarted ? [...completed, messageItem("completed", [outputTextPart(text)])] : completed;
      out += event("response.completed", { response: streamedResponse(echo, responseId, "completed", output, usageFields(c)) });
    }
    return out;
  };

  return v1Writer(streaming, frames, (c) => responseObject(echo, responseId, itemId, c), STREAM_HEADERS);
}

export async function responses(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeV1Body(await req.text(), "ResponsesRequest");
  const { chat, echo } = inMiddleware(() => fromRequest(body));
  return chatHandler(ctx, chat, responsesWriter(echo, chat.stream), call);
}
