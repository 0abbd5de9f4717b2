import { describe, expect, test } from "bun:test";
import { SimError } from "../../src/sim/errors.ts";
import { needsReload } from "../../src/ollama/load-options.ts";
import { checkOptionTypes, DEFAULT_NUM_CTX, loadOptionsOf, type ModelFacts, type RunnerLoad } from "../../src/sim/options.ts";

const LLAMA: ModelFacts = { trainContext: 131072, family: "llama", vision: false, embedding: false };
const load = (options: Record<string, unknown> = {}, model: ModelFacts = LLAMA, shift?: boolean): RunnerLoad => loadOptionsOf(options, model, shift);

function typeError(options: Record<string, unknown>): { status: number; message: string } | null {
  try {
    checkOptionTypes(options);
    return null;
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    return { status: err.status, message: err.message };
  }
}

describe("option types (api.Options.FromMap)", () => {
  test.each([
    [{ temperature: "hot" }, 'option "temperature" must be of type float32'],
    [{ num_ctx: "4096" }, 'option "num_ctx" must be of type integer'],
    [{ main_gpu: true }, 'option "main_gpu" must be of type integer'],
    [{ use_mmap: 1 }, 'option "use_mmap" must be of type boolean'],
    [{ stop: "\n" }, 'option "stop" must be of type array'],
    [{ stop: {} }, 'option "stop" must be of type array'],
    [{ stop: ["a", 1] }, 'option "stop" must be of an array of strings'],
    [{ top_k: [1] }, 'option "top_k" must be of type integer'],
  ])("%p is a 500: %s", (options, message) => {
    expect(typeError(options)).toEqual({ status: 500, message });
  });

  test("numbers of either kind, nulls and unknown keys pass", () => {
    expect(typeError({ num_ctx: 2048.7, temperature: 1, seed: -1, stop: [], use_mmap: false, main_gpu: null, unknown: "x" })).toBeNull();
  });
});

describe("load-time options", () => {
  test("defaults: Ollama's CPU context tier, automatic batch, num_gpu -1", () => {
    expect(load()).toEqual({
      numCtx: DEFAULT_NUM_CTX,
      numCtxAuto: true,
      numBatch: 512,
      numBatchAuto: true,
      numGpu: -1,
      mainGpu: null,
      useMmap: null,
      numThread: 0,
      draftNumPredict: 0,
      contextShift: true,
    });
  });

  test("num_ctx is truncated to an int, raised to 4 (2048 for vision), capped at the training context", () => {
    expect(load({ num_ctx: 2048.9 }).numCtx).toBe(2048);
    expect(load({ num_ctx: 1 }).numCtx).toBe(4);
    expect(load({ num_ctx: 512 }, { ...LLAMA, vision: true }).numCtx).toBe(2048);
    expect(load({ num_ctx: 1_000_000 }).numCtx).toBe(131072);
    expect(load({}, { ...LLAMA, trainContext: 2048 }).numCtx).toBe(2048);
    expect(load({ num_ctx: 2048 }).numCtxAuto).toBe(false);
  });

  test("embedding models get llama-server's embedding batch, which is not automatic", () => {
    const embed = { ...LLAMA, trainContext: 2048, embedding: true };
    expect(load({}, embed)).toMatchObject({ numBatch: 2048, numBatchAuto: false });
    expect(load({ num_ctx: 1024 }, embed)).toMatchObject({ numBatch: 1024 });
  });

  test("context shift: the request's shift, else off only for deepseek2", () => {
    expect(load({}, LLAMA, false).contextShift).toBe(false);
    expect(load({}, { ...LLAMA, family: "deepseek2" }).contextShift).toBe(false);
  });
});

describe("needsReload", () => {
  const base = load();
  test.each([
    ["same options", {}, undefined, false],
    ["runtime options only", { temperature: 0.1, seed: 3, num_predict: 5 }, undefined, false],
    ["explicit num_ctx equal to the automatic one", { num_ctx: DEFAULT_NUM_CTX }, undefined, false],
    ["num_ctx", { num_ctx: 2048 }, undefined, true],
    ["num_ctx beyond the training context (clamped, still different)", { num_ctx: 10_000_000 }, undefined, true],
    ["num_batch", { num_batch: 256 }, undefined, true],
    ["explicit num_batch equal to the automatic one", { num_batch: 512 }, undefined, false],
    ["num_gpu", { num_gpu: 0 }, undefined, true],
    ["num_gpu -1 means don't care", { num_gpu: -1 }, undefined, false],
    ["main_gpu", { main_gpu: 0 }, undefined, true],
    ["use_mmap", { use_mmap: false }, undefined, true],
    ["num_thread", { num_thread: 4 }, undefined, true],
    ["draft_num_predict", { draft_num_predict: 4 }, undefined, true],
    ["context shift", {}, false, true],
  ] as const)("%s", (_name, options, shift, expected) => {
    expect(needsReload(base, load(options, LLAMA, shift))).toBe(expected);
  });

  test("an explicit num_ctx runner is reloaded by a request with the automatic one if they differ", () => {
    const explicit = load({ num_ctx: 2048 });
    expect(needsReload(explicit, load())).toBe(true);
    expect(needsReload(explicit, load({ num_ctx: 2048 }))).toBe(false);
  });

  test("num_gpu -1 in the request matches a runner loaded with any num_gpu", () => {
    expect(needsReload(load({ num_gpu: 0 }), load({ num_gpu: -1 }))).toBe(false);
    expect(needsReload(load({ num_gpu: 0 }), load({ num_gpu: 2 }))).toBe(true);
  });
});
