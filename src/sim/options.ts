// Request `options` as Ollama's scheduler reads them: the type check
// api.Options.FromMap does while scheduling (a wrong type is a 500, not a
// 400), the load-time options a runner is started with, and sched.go's
// needsReload rule for when a loaded runner cannot serve a request. Pure.

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

/** What a runner is started with (api.Runner plus the scheduler's flags), as needsReload compares it. */
export interface LoadOptions {
  /** Effective context: clamped to at least 4 (2048 for vision) and at most the training context. */
  numCtx: number;
  /** num_ctx came from Ollama's default, not the request. */
  numCtxAuto: boolean;
  numBatch: number;
  numBatchAuto: boolean;
  numGpu: number;
  mainGpu: number | null;
  useMmap: boolean | null;
  numThread: number;
  draftNumPredict: number;
  contextShift: boolean;
}

export interface ModelFacts {
  trainContext: number;
  family: string;
  vision: boolean;
  embedding: boolean;
}

/** OLLAMA_CONTEXT_LENGTH unset and no GPU: the lowest VRAM tier's default. */
export const DEFAULT_NUM_CTX = 4096;

const intOf = (value: unknown): number | undefined => (typeof value === "number" ? Math.trunc(value) : undefined);

/** llama-server's automatic generation batch for a context size on CPU. */
const autoBatch = (numCtx: number): number => (numCtx > 32768 ? 2048 : numCtx > 4096 ? 1024 : 512);

/** The load-time options a request asks for (its `options` already type-checked), given the model and `shift`. */
export function loadOptionsOf(options: Record<string, unknown>, model: ModelFacts, shift: boolean | undefined): LoadOptions {
  const requestedCtx = intOf(options.num_ctx) ?? DEFAULT_NUM_CTX;
  let numCtx = Math.max(requestedCtx, 4, model.vision ? 2048 : 0);
  if (model.trainContext > 0) numCtx = Math.min(numCtx, model.trainContext);
  const explicitBatch = intOf(options.num_batch);
  // Embedding models without num_batch get llama-server's embedding batch, which is not "auto".
  const numBatch = explicitBatch ?? (model.embedding ? Math.min(2048, requestedCtx) : autoBatch(numCtx));
  return {
    numCtx,
    numCtxAuto: options.num_ctx === undefined || options.num_ctx === null,
    numBatch,
    numBatchAuto: explicitBatch === undefined && !model.embedding,
    numGpu: intOf(options.num_gpu) ?? -1,
    mainGpu: intOf(options.main_gpu) ?? null,
    useMmap: typeof options.use_mmap === "boolean" ? options.use_mmap : null,
    numThread: intOf(options.num_thread) ?? 0,
    draftNumPredict: intOf(options.draft_num_predict) ?? 0,
    contextShift: shift ?? model.family !== "deepseek2",
  };
}

/**
 * sched.go's needsReload for the parts a simulated runner has (no adapters,
 * projectors or failing pings; use_mmap is never derived on CPU):
 * 1. A different context-shift setting reloads.
 * 2. Automatic num_ctx on both sides, or automatic num_batch on both sides, is not compared.
 * 3. num_gpu < 0 in the request means "don't care".
 * 4. Any other difference in num_ctx, num_batch, num_gpu, main_gpu, use_mmap, num_thread, draft_num_predict reloads.
 */
export function needsReload(loaded: LoadOptions, wanted: LoadOptions): boolean {
  if (loaded.contextShift !== wanted.contextShift) return true;
  const numCtx = loaded.numCtxAuto && wanted.numCtxAuto ? loaded.numCtx : wanted.numCtx;
  const numBatch = loaded.numBatchAuto && wanted.numBatchAuto ? loaded.numBatch : wanted.numBatch;
  const numGpu = wanted.numGpu < 0 ? loaded.numGpu : wanted.numGpu;
  return (
    numCtx !== loaded.numCtx ||
    numBatch !== loaded.numBatch ||
    numGpu !== loaded.numGpu ||
    wanted.mainGpu !== loaded.mainGpu ||
    wanted.useMmap !== loaded.useMmap ||
    wanted.numThread !== loaded.numThread ||
    wanted.draftNumPredict !== loaded.draftNumPredict
  );
}
