// The /v1 OpenAI layer: requests rewritten into a native Plan, replies into
// chat.completion / text_completion / embeddings shapes, SSE framing (§2.2)
// and the lossy mid-stream failure Ollama's middleware really has (§3.4).

import { decodeBody, expectField, stringField, type JsonObject } from "./body.ts";
import { openAIModel } from "./catalogue.ts";
import type { SimContext } from "./context.ts";
import { SimError } from "./errors.ts";
import { embedTexts } from "./embed.ts";
import { encoded, SSE, sseEvent } from "./http.ts";
import { goJson } from "./gojson.ts";
import { begin, type Plan, type Session } from "./inference.ts";
import { countTokens, float32Base64 } from "./output.ts";
import { chatInput, limitOf, lookup, requireCompletion, seedOf, wantOf } from "./request.ts";
import { renderSession, type Framing } from "./render.ts";
import type { Call } from "./router.ts";

const reply = (body: unknown): Response => encoded(body);

/** /v1 bodies: an empty one is Go's bare `EOF`. */
async function readBody(req: Request, structName: string): Promise<JsonObject> {
  const raw = await req.text();
  if (raw.trim() === "") throw new SimError(400, "EOF");
  return decodeBody(raw, structName);
}

function usage(session: Session): JsonObject {
  const completion = session.tokens.length;
  return { prompt_tokens: session.plan.promptTokens, completion_tokens: completion, total_tokens: session.plan.promptTokens + completion };
}

const includeUsage = (body: JsonObject): boolean =>
  typeof body.stream_options === "object" && body.stream_options !== null && (body.stream_options as JsonObject).include_usage === true;

/** How chat and legacy completions differ; framing is shared below. */
interface Dialect {
  chunk(text: string, first: boolean): JsonObject;
  /** Chunks after the last token: finish (and usage) chunks. */
  tail(session: Session): JsonObject[];
  /** What the native `{"error"}` line turns into: an empty content chunk, then EOF without [DONE]. */
  lost(first: boolean): JsonObject;
  whole(text: string, session: Session): JsonObject;
}

const event = (value: JsonObject): string => sseEvent(goJson(value));

function framing(dialect: Dialect): Framing {
  return {
    contentType: SSE,
    chunk: (token, first) => event(dialect.chunk(token, first)),
    tail: (session) => [...dialect.tail(session).map(event), sseEvent("[DONE]")],
    broken: (_message, first) => event(dialect.lost(first)),
    whole: (text, session) => reply(dialect.whole(text, session)),
  };
}

function chatDialect(model: string, withUsage: boolean): Dialect {
  const id = `chatcmpl-${Math.floor(Math.random() * 999)}`;
  const created = Math.floor(Date.now() / 1000);
  const head = { id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_ollama" };
  const delta = (content: string, first: boolean): JsonObject => (first ? { role: "assistant", content } : { content });
  return {
    chunk: (content, first) => ({ ...head, choices: [{ index: 0, delta: delta(content, first), finish_reason: null }] }),
    tail: (session) => [
      { ...head, choices: [{ index: 0, delta: {}, finish_reason: session.doneReason }] },
      ...(withUsage ? [{ ...head, choices: [], usage: usage(session) }] : []),
    ],
    lost: (first) => ({ ...head, choices: [{ index: 0, delta: delta("", first), finish_reason: null }] }),
    whole: (content, session) => ({
      id,
      object: "chat.completion",
      created,
      model,
      system_fingerprint: "fp_ollama",
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: session.doneReason }],
      usage: usage(session),
    }),
  };
}

function completionDialect(model: string, withUsage: boolean): Dialect {
  const id = `cmpl-${Math.floor(Math.random() * 999)}`;
  const created = Math.floor(Date.now() / 1000);
  const zero = withUsage ? { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } } : {};
  const chunk = (text: string, finish: string | null): JsonObject => ({
    id,
    object: "text_completion",
    created,
    choices: [{ text, index: 0, finish_reason: finish }],
    model,
    system_fingerprint: "fp_ollama",
    ...zero,
  });
  return {
    chunk: (text) => chunk(text, null),
    tail: (session) => [
      chunk("", session.doneReason),
      ...(withUsage ? [{ id, object: "text_completion", created, choices: [], model, system_fingerprint: "fp_ollama", usage: usage(session) }] : []),
    ],
    lost: () => chunk("", null),
    whole: (text, session) => ({
      id,
      object: "text_completion",
      created,
      model,
      system_fingerprint: "fp_ollama",
      choices: [{ text, index: 0, finish_reason: session.doneReason }],
      usage: usage(session),
    }),
  };
}

/** Fields both /v1 generation endpoints read. */
function v1Plan(ctx: SimContext, body: JsonObject, verb: "chat" | "generate", input: string, promptTokens: number): Plan {
  const model = stringField(body, "model");
  const entry = lookup(ctx.catalogue, model, "single");
  requireCompletion(entry, model, verb);
  return {
    ...wantOf(entry, undefined, {}),
    input,
    promptTokens,
    limit: limitOf(body.max_tokens ?? body.max_completion_tokens),
    seed: seedOf(body.seed, ctx.settings.seed),
  };
}

export async function chatCompletions(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = await readBody(req, "ChatCompletionRequest");
  expectField(body, "ChatCompletionRequest", "stream", "bool");
  const messages = Array.isArray(body.messages) ? (body.messages as unknown[]) : [];
  if (messages.length === 0) throw new SimError(400, "[] is too short - 'messages'");
  if (stringField(body, "model") === "") throw new SimError(400, "model is required");
  const { input, promptTokens } = chatInput(messages);
  const plan = v1Plan(ctx, body, "chat", input, promptTokens);
  const dialect = chatDialect(stringField(body, "model"), includeUsage(body));
  return renderSession(await begin(ctx, plan, call.signal), framing(dialect), body.stream === true, call);
}

export async function completions(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = await readBody(req, "CompletionRequest");
  expectField(body, "CompletionRequest", "stream", "bool");
  expectField(body, "CompletionRequest", "prompt", "string");
  const prompt = stringField(body, "prompt");
  const plan = v1Plan(ctx, body, "generate", `\u0000\u0000${prompt}`, countTokens(prompt) + 8);
  const dialect = completionDialect(stringField(body, "model"), includeUsage(body));
  return renderSession(await begin(ctx, plan, call.signal), framing(dialect), body.stream === true, call);
}

export async function embeddingsV1(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = await readBody(req, "EmbedRequest");
  const raw = body.input;
  const inputs = raw === "" ? [""] : typeof raw === "string" ? [raw] : Array.isArray(raw) && raw.every((v) => typeof v === "string") ? (raw as string[]) : null;
  if (!inputs || inputs.length === 0) throw new SimError(400, "invalid input");
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") throw new SimError(400, `invalid encoding format: ${JSON.stringify(format)}`);
  const model = stringField(body, "model");
  const entry = lookup(ctx.catalogue, model, model === "" ? "single" : "pull");
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : undefined;
  const out = await embedTexts(ctx, entry, inputs, { normalized: true, dimensions, want: wantOf(entry, undefined, {}) }, call.signal);
  return reply({
    object: "list",
    data: out.vectors.map((v, index) => ({ object: "embedding", embedding: format === "base64" ? float32Base64(v) : Float32Array.from(v), index })),
    model,
    usage: { prompt_tokens: out.promptTokens, total_tokens: out.promptTokens },
  });
}

export function listModels(ctx: SimContext): Response {
  const data = ctx.catalogue.list().map((e) => openAIModel(e));
  return reply({ object: "list", data: data.length === 0 ? null : data });
}

export function retrieveModel(ctx: SimContext, id: string): Response {
  const entry = ctx.catalogue.find(id);
  if (!entry) throw new SimError(404, `model '${id}' not found`);
  return reply(openAIModel(entry, id));
}
