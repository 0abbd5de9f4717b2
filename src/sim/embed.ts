// POST /api/embed and /api/embeddings, plus the vector maths /v1/embeddings
// reuses: one deterministic vector per input, computed under the model's slot.

import { decodeBody, expectField, stringField } from "./body.ts";
import type { ModelEntry } from "./catalogue.ts";
import { sleep } from "./clock.ts";
import type { SimContext } from "./context.ts";
import { parseKeepAlive } from "./duration.ts";
import { SimError } from "./errors.ts";
import { json } from "./http.ts";
import { begin, loadOnly, Session, type Metrics } from "./inference.ts";
import { countTokens, normalize, rawEmbedding } from "./output.ts";
import { lookup, optionsOf, wantOf } from "./request.ts";
import type { Want } from "./scheduler.ts";
import type { Call } from "./router.ts";

export interface Embedded {
  vectors: number[][];
  promptTokens: number;
  metrics: Metrics;
}

/** Runs `inputs` through the model; `normalized` vectors may be cut to `dimensions`. */
export async function embedTexts(
  ctx: SimContext,
  entry: ModelEntry,
  inputs: string[],
  opts: { normalized: boolean; dimensions: number | undefined; want: Want },
  signal: AbortSignal,
): Promise<Embedded> {
  const promptTokens = inputs.reduce((n, text) => n + countTokens(text) + 2, 0);
  const plan = { ...opts.want, input: inputs.join("\u0000"), promptTokens, limit: 0, seed: ctx.settings.seed };
  const session = await begin(ctx, plan, signal);
  try {
    await sleep(ctx.settings.tokenDelayMs, signal);
    const dims = opts.dimensions !== undefined && opts.dimensions > 0 ? Math.min(opts.dimensions, entry.embeddingLength) : entry.embeddingLength;
    const vectors = inputs.map((text) => {
      const raw = rawEmbedding(entry.key, text, entry.embeddingLength).slice(0, dims);
      return opts.normalized ? normalize(raw) : raw;
    });
    const metrics = session.metrics();
    session.end("completed");
    return { vectors, promptTokens, metrics };
  } catch (err) {
    session.end(Session.outcomeOf(err));
    throw err;
  }
}

/** `input` as a list of strings, or Ollama's 400. */
export function inputList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return value === "" ? [] : [value];
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  throw new SimError(400, "invalid input type");
}

export async function embed(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "EmbedRequest");
  expectField(body, "EmbedRequest", "model", "string");
  expectField(body, "EmbedRequest", "dimensions", "number", "int");
  const keepAlive = parseKeepAlive(body.keep_alive);
  const options = optionsOf(body, "EmbedRequest");
  const model = stringField(body, "model");
  const entry = lookup(ctx.catalogue, model, model === "" ? "single" : "pull");
  const inputs = inputList(body.input);
  const want = wantOf(entry, keepAlive, options);
  if (inputs.length === 0) {
    await loadOnly(ctx, want, call.signal);
    return json({ model, embeddings: [] });
  }
  const dimensions = typeof body.dimensions === "number" ? body.dimensions : undefined;
  const out = await embedTexts(ctx, entry, inputs, { normalized: true, dimensions, want }, call.signal);
  return json({
    model,
    embeddings: out.vectors.map((v) => Float32Array.from(v)),
    total_duration: out.metrics.total_duration,
    load_duration: out.metrics.load_duration,
    prompt_eval_count: out.promptTokens,
  });
}

export async function embeddings(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  const body = decodeBody(await req.text(), "EmbeddingRequest");
  expectField(body, "EmbeddingRequest", "model", "string");
  expectField(body, "EmbeddingRequest", "prompt", "string");
  const keepAlive = parseKeepAlive(body.keep_alive);
  const options = optionsOf(body, "EmbeddingRequest");
  const model = stringField(body, "model");
  if (model === "") throw new SimError(400, "model is required");
  const entry = lookup(ctx.catalogue, model, "pull");
  const prompt = stringField(body, "prompt");
  const want = wantOf(entry, keepAlive, options);
  if (prompt === "") {
    await loadOnly(ctx, want, call.signal);
    return json({ embedding: [] });
  }
  const out = await embedTexts(ctx, entry, [prompt], { normalized: false, dimensions: undefined, want }, call.signal);
  return json({ embedding: out.vectors[0] ?? [] });
}
