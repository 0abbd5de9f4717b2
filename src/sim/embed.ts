// POST /api/embed and /api/embeddings, and the EmbedHandler core that
// /v1/embeddings also runs through: Ollama's order of checks, the load-only
// reply, context truncation (or its 400 with truncate:false), and one
// deterministic vector per input computed under the model's slot.

import { decodeBody, expectField, stringField, type JsonObject } from "./body.ts";
import { sleep } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { parseKeepAlive, type KeepAlive } from "./duration.ts";
import { SimError } from "./errors.ts";
import { json } from "./http.ts";
import { begin, loadOnly, Session, type Metrics } from "./inference.ts";
import { countTokens, normalize, rawEmbedding } from "./output.ts";
import { isStdBase64, lookup, optionsOf, wantOf } from "./request.ts";
import type { Call } from "./context.ts";
import type { Want } from "./scheduler.ts";

export interface EmbedRequest {
  model: string;
  input: unknown;
  truncate: boolean;
  dimensions: number;
  keepAlive: KeepAlive;
  options: JsonObject;
}

export interface Embedded {
  /** float32 values, L2-normalized. */
  vectors: Float32Array[];
  promptTokens: number;
  totalDuration: number;
  loadDuration: number;
}

/**
 * A media input of Ollama ≥ 0.36 (multimodal embeddings, §11): an object with base64 `image`
 * data and optional `text`, embedded as the text it stands for here. Null for anything else.
 */
function mediaInput(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const { image, text } = value as { image?: unknown; text?: unknown };
  if (typeof image !== "string" || !isStdBase64(image) || (text !== undefined && typeof text !== "string")) return null;
  return `${text ?? ""}\u0000image:${new Bun.CryptoHasher("sha256").update(image).digest("hex")}`;
}

/** `input` as a list of texts (media inputs stand for theirs), or Ollama's 400. */
function inputList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value === "" ? [] : [value];
  const items = Array.isArray(value) ? value.map((v) => (typeof v === "string" ? v : mediaInput(v))) : [mediaInput(value)];
  if (items.every((v): v is string => v !== null)) return items;
  throw new SimError(400, "invalid input type");
}

/** An input's tokens (text plus BOS/EOS) and its text cut to `limit` tokens. */
function fitted(text: string, limit: number): { text: string; tokens: number } {
  const tokens = countTokens(text) + 2;
  if (tokens <= limit) return { text, tokens };
  const words = text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? [];
  return { text: words.slice(0, Math.max(0, limit - 2)).join(" "), tokens: limit };
}

/** Runs `work` under the model's slot for one token delay, as a runner computing embeddings. */
async function computed<T>(ctx: SimContext, want: Want, input: string, signal: AbortSignal, work: () => T): Promise<{ value: T; metrics: Metrics }> {
  const plan = { ...want, input, promptTokens: 0, limit: undefined, seed: ctx.settings.seed, think: false, tools: [] };
  const session = await begin(ctx, plan, signal);
  try {
    await sleep(ctx.settings.tokenDelayMs, signal);
    const value = work();
    const metrics = session.metrics();
    session.end("completed");
    return { value, metrics };
  } catch (err) {
    session.end(Session.outcomeOf(err));
    throw err;
  }
}

/** EmbedHandler: null when the request only loaded the model. */
export async function embedHandler(ctx: SimContext, req: EmbedRequest, call: Call): Promise<Embedded | null> {
  if (req.model.trim() === "") throw new SimError(404, `model '${req.model}' not found`);
  const inputs = inputList(req.input);
  const entry = lookup(ctx.catalogue, req.model, "pull");
  const want = wantOf(entry, req.keepAlive, req.options);
  if (inputs.length === 0) {
    await loadOnly(ctx, want, call.signal);
    return null;
  }
  // The context an input must fit: num_ctx (as the request asks for it), at most the training context.
  const contextLength = want.load.numCtx;
  let promptTokens = 0;
  const { value: vectors, metrics } = await computed(ctx, want, inputs.join("\u0000"), call.signal, () =>
    inputs.map((text) => {
      if (!req.truncate && countTokens(text) + 2 > contextLength) throw new SimError(400, "the input length exceeds the context length");
      const input = fitted(text, contextLength);
      promptTokens += input.tokens;
      const full = normalize(rawEmbedding(entry.key, input.text, entry.embeddingLength));
      return Float32Array.from(req.dimensions > 0 && req.dimensions < full.length ? normalize(full.slice(0, req.dimensions)) : full);
    }),
  );
  return { vectors, promptTokens, totalDuration: metrics.total_duration, loadDuration: metrics.load_duration };
}

export async function embed(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "EmbedRequest");
  expectField(body, "EmbedRequest", "model", "string");
  expectField(body, "EmbedRequest", "truncate", "bool");
  expectField(body, "EmbedRequest", "dimensions", "number", "int");
  const request: EmbedRequest = {
    model: stringField(body, "model"),
    input: body.input,
    truncate: body.truncate !== false,
    dimensions: typeof body.dimensions === "number" ? body.dimensions : 0,
    keepAlive: parseKeepAlive(body.keep_alive),
    options: optionsOf(body, "EmbedRequest"),
  };
  const out = await embedHandler(ctx, request, call);
  if (!out) return json({ model: request.model, embeddings: [] });
  return json({
    model: request.model,
    embeddings: out.vectors,
    total_duration: out.totalDuration,
    load_duration: out.loadDuration,
    prompt_eval_count: out.promptTokens,
  });
}

/** The legacy endpoint: one prompt, a float64 vector, not normalized, no truncation. */
export async function embeddings(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "EmbeddingRequest");
  expectField(body, "EmbeddingRequest", "model", "string");
  expectField(body, "EmbeddingRequest", "prompt", "string");
  const keepAlive = parseKeepAlive(body.keep_alive);
  const options = optionsOf(body, "EmbeddingRequest");
  const model = stringField(body, "model");
  if (model.trim() === "") throw new SimError(400, "model is required");
  const entry = lookup(ctx.catalogue, model, "pull");
  const want = wantOf(entry, keepAlive, options);
  const prompt = stringField(body, "prompt");
  if (prompt === "") {
    await loadOnly(ctx, want, call.signal);
    return json({ embedding: [] });
  }
  const { value } = await computed(ctx, want, prompt, call.signal, () => rawEmbedding(entry.key, prompt, entry.embeddingLength));
  return json({ embedding: value });
}
