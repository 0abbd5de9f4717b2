// The options a model runner is started with, and when a request cannot use a runner that
// was started with others: Ollama's needsReload (server/sched.go). A request that changes
// num_ctx (or num_batch, num_gpu, …) makes Ollama unload the model and load it again — a swap
// like any other — so foreman's drain groups work by the model *and* these options (the drain
// key, ADR 0021). The simulator starts its runners by the same rule. Pure.

/**
 * What a request asks of the runner, as it says it: api.Runner's fields from `options` (in
 * api.Runner's order) and the top-level `shift`. A field the request leaves out is left to
 * Ollama (its automatic choice, or the model's own default), which foreman cannot see.
 */
export interface RequestedLoad {
  num_ctx?: number;
  num_batch?: number;
  /** Only a GPU count; a negative one is Ollama's "don't care", the same as leaving it out. */
  num_gpu?: number;
  main_gpu?: number;
  use_mmap?: boolean;
  num_thread?: number;
  draft_num_predict?: number;
  shift?: boolean;
}

type Field = keyof RequestedLoad;

/** The runner options in api.Runner's order, with their JSON kinds; `shift` is the request's own field. */
const FIELDS: readonly (readonly [Field, "integer" | "boolean"])[] = [
  ["num_ctx", "integer"],
  ["num_batch", "integer"],
  ["num_gpu", "integer"],
  ["main_gpu", "integer"],
  ["use_mmap", "boolean"],
  ["num_thread", "integer"],
  ["draft_num_predict", "integer"],
  ["shift", "boolean"],
];

/**
 * Reads a request body's load-time options. Numbers are truncated to integers as Go's
 * decoding into an int does; a value of the wrong type (which Ollama refuses when it
 * schedules the request) or null counts as left out.
 */
export function requestedLoad(body: { options?: unknown; shift?: unknown }): RequestedLoad {
  const options = typeof body.options === "object" && body.options !== null ? (body.options as Record<string, unknown>) : {};
  const out: Record<string, number | boolean> = {};
  for (const [field, kind] of FIELDS) {
    const value = field === "shift" ? body.shift : options[field];
    if (kind === "integer" && typeof value === "number" && Number.isFinite(value)) out[field] = Math.trunc(value);
    if (kind === "boolean" && typeof value === "boolean") out[field] = value;
  }
  if ((out.num_gpu as number) < 0) delete out.num_gpu;
  return out as RequestedLoad;
}

/**
 * The drain key: the model's key, then each load-time option the request sets, in api.Runner's
 * order (`qwen3:8b num_ctx=8192`). Two requests with the same key run on the same runner; two
 * with different keys make Ollama reload the model, unless a value a request left out happens to
 * equal the one the other sets (Ollama's default is not visible from here).
 */
export function drainKey(modelKey: string, load: RequestedLoad): string {
  let key = modelKey;
  for (const [field] of FIELDS) if (load[field] !== undefined) key += ` ${field}=${load[field]}`;
  return key;
}

/**
 * The inverse of drainKey: the model's key and the options. The options are read from the end,
 * so a model name with spaces in it (which Ollama refuses anyway) cannot pass for options.
 */
export function parseDrainKey(key: string): { modelKey: string; load: RequestedLoad } {
  const parts = key.split(" ");
  const load: Record<string, number | boolean> = {};
  while (parts.length > 1) {
    const pair = /^([a-z_]+)=(-?\d+|true|false)$/.exec(parts.at(-1)!);
    if (!pair || !FIELDS.some(([field]) => field === pair[1]) || pair[1]! in load) break;
    load[pair[1]!] = pair[2] === "true" ? true : pair[2] === "false" ? false : Number(pair[2]);
    parts.pop();
  }
  return { modelKey: parts.join(" "), load: load as RequestedLoad };
}

/**
 * A runner's options as needsReload compares them. `undefined` is a value left to Ollama and
 * unknown to the caller: foreman knows only what requests say, the simulator fills in what
 * Ollama would have chosen (`src/sim/options.ts`).
 */
export interface LoadOptions {
  numCtx: number | undefined;
  /** num_ctx came from Ollama's automatic choice, not the request (nor the model). */
  numCtxAuto: boolean;
  numBatch: number | undefined;
  numBatchAuto: boolean;
  /** Negative: "don't care" in a request; -1 is Ollama's default. */
  numGpu: number;
  mainGpu: number | null;
  useMmap: boolean | null;
  numThread: number | undefined;
  draftNumPredict: number | undefined;
  contextShift: boolean | undefined;
}

/** The options a request asks for, as far as the request alone says. */
export function loadOptions(load: RequestedLoad): LoadOptions {
  return {
    numCtx: load.num_ctx,
    numCtxAuto: load.num_ctx === undefined,
    numBatch: load.num_batch,
    numBatchAuto: load.num_batch === undefined,
    numGpu: load.num_gpu ?? -1,
    mainGpu: load.main_gpu ?? null,
    useMmap: load.use_mmap ?? null,
    numThread: load.num_thread,
    draftNumPredict: load.draft_num_predict,
    contextShift: load.shift,
  };
}

/**
 * sched.go's needsReload, for the parts a request can change (not adapters, projectors, a
 * runner that stopped answering its ping, nor use_mmap derived on a GPU):
 * 1. A different context-shift setting reloads.
 * 2. num_ctx chosen automatically on both sides is not compared; nor is num_batch.
 * 3. A negative num_gpu in the request means "don't care".
 * 4. Any other difference in num_ctx, num_batch, num_gpu, main_gpu, use_mmap, num_thread or
 *    draft_num_predict reloads — an unknown value included, which may differ.
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

/** Whether work under drain key `wanted` makes Ollama reload a runner loaded for `loaded` (same model). */
export function reloadsBetween(loaded: string, wanted: string): boolean {
  return needsReload(loadOptions(parseDrainKey(loaded).load), loadOptions(parseDrainKey(wanted).load));
}
