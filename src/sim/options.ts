// Request `options` as Ollama's scheduler reads them: the type check
// api.Options.FromMap does while scheduling (a wrong type is a 500, not a
// 400), and the load-time options a runner is started with, Ollama's choices
// filled in. When a loaded runner cannot serve a request is sched.go's
// needsReload, which foreman's drain key follows too: one rule, in
// src/ollama/load-options.ts. Pure.

import { loadOptions, requestedLoad, type LoadOptions } from "../ollama/load-options.ts";
import { SimError } from "./errors.ts";

type GoKind = "integer" | "float32" | "boolean" | "array";

/** api.Options' JSON fields and their Go kinds (pointers named by what they point to). */
const OPTION_KINDS: Record<string, GoKind> = {
  num_ctx: "integer",
  num_batch: "integer",
  num_gpu: "integer",
  main_gpu: "integer",
  use_mmap: "boolean",
  num_thread: "integer",
  draft_num_predict: "integer",
  num_keep: "integer",
  seed: "integer",
  num_predict: "integer",
  top_k: "integer",
  top_p: "float32",
  min_p: "float32",
  typical_p: "float32",
  repeat_last_n: "integer",
  temperature: "float32",
  repeat_penalty: "float32",
  presence_penalty: "float32",
  frequency_penalty: "float32",
  stop: "array",
};

const JSON_KIND: Record<GoKind, string> = { integer: "number", float32: "number", boolean: "boolean", array: "object" };

/**
 * FromMap's check: unknown keys and nulls are ignored, a known key of the
 * wrong JSON type fails scheduling with a 500. Go walks a map, so with several
 * bad keys it names any one; this names the first.
 */
export function checkOptionTypes(options: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(options)) {
    const kind = OPTION_KINDS[key];
    if (kind === undefined || value === null || value === undefined) continue;
    if (typeof value !== JSON_KIND[kind] || (kind === "array") !== Array.isArray(value)) {
      throw new SimError(500, `option ${JSON.stringify(key)} must be of type ${kind}`);
    }
    if (kind === "array" && !(value as unknown[]).every((item) => typeof item === "string")) {
      throw new SimError(500, `option ${JSON.stringify(key)} must be of an array of strings`);
    }
  }
}

/** A runner's options with Ollama's choices filled in: nothing unknown. */
export type RunnerLoad = LoadOptions & { numCtx: number; numBatch: number; numThread: number; draftNumPredict: number; contextShift: boolean };

export interface ModelFacts {
  trainContext: number;
  family: string;
  vision: boolean;
  embedding: boolean;
}

/** OLLAMA_CONTEXT_LENGTH unset and no GPU: the lowest VRAM tier's default. */
export const DEFAULT_NUM_CTX = 4096;

/** llama-server's automatic generation batch for a context size on CPU. */
const autoBatch = (numCtx: number): number => (numCtx > 32768 ? 2048 : numCtx > 4096 ? 1024 : 512);

/**
 * The options a runner is started with for a request (its `options` already type-checked),
 * given the model and `shift`: what the request says, read as foreman reads it, and Ollama's
 * choices for what it leaves out — every value filled in.
 */
export function loadOptionsOf(options: Record<string, unknown>, model: ModelFacts, shift: boolean | undefined): RunnerLoad {
  const asked = loadOptions(requestedLoad({ options, shift }));
  let numCtx = Math.max(asked.numCtx ?? DEFAULT_NUM_CTX, 4, model.vision ? 2048 : 0);
  if (model.trainContext > 0) numCtx = Math.min(numCtx, model.trainContext);
  // Embedding models without num_batch get llama-server's embedding batch, which is not "auto".
  const numBatch = asked.numBatch ?? (model.embedding ? Math.min(2048, asked.numCtx ?? DEFAULT_NUM_CTX) : autoBatch(numCtx));
  return {
    ...asked,
    numCtx,
    numBatch,
    numBatchAuto: asked.numBatchAuto && !model.embedding,
    numThread: asked.numThread ?? 0,
    draftNumPredict: asked.draftNumPredict ?? 0,
    contextShift: asked.contextShift ?? model.family !== "deepseek2",
  };
}
