// The drain key (ADR 0021): the model plus the load-time options a request sets, checked against
// Ollama's needsReload as the simulator applies it — every value Ollama would choose filled in,
// for several kinds of model — so that work with one key never makes Ollama reload, and work with
// two keys does unless a value one of them leaves out happens to equal the other's.
import { describe, expect, test } from "bun:test";
import { drainKey, loadOptions, needsReload, parseDrainKey, reloadsBetween, requestedLoad, type RequestedLoad } from "../../src/ollama/load-options.ts";
import { loadOptionsOf, type ModelFacts } from "../../src/sim/options.ts";
import { seededRandom } from "../harness.ts";

const LLAMA: ModelFacts = { trainContext: 131072, family: "llama", vision: false, embedding: false };
const FACTS: ModelFacts[] = [LLAMA, { ...LLAMA, family: "deepseek2" }, { ...LLAMA, vision: true }, { ...LLAMA, trainContext: 8192, embedding: true }];

describe("requestedLoad", () => {
  test("reads api.Runner's fields from options and shift from the body; nothing else", () => {
    expect(requestedLoad({ options: { num_ctx: 8192, num_batch: 256, num_gpu: 20, main_gpu: 1, use_mmap: false, num_thread: 8, draft_num_predict: 3, temperature: 0.1, seed: 4, num_predict: 9 }, shift: false })).toEqual({
      num_ctx: 8192,
      num_batch: 256,
      num_gpu: 20,
      main_gpu: 1,
      use_mmap: false,
      num_thread: 8,
      draft_num_predict: 3,
      shift: false,
    });
    expect(requestedLoad({})).toEqual({});
    expect(requestedLoad({ options: null, shift: "yes" })).toEqual({});
  });

  test("numbers are truncated as Go's int decoding does; wrong types and nulls count as left out", () => {
    expect(requestedLoad({ options: { num_ctx: 8192.9, num_batch: "512", use_mmap: 1, main_gpu: null, num_thread: Number.NaN } })).toEqual({ num_ctx: 8192 });
  });

  test("a negative num_gpu is Ollama's don't care: the same as leaving it out", () => {
    expect(requestedLoad({ options: { num_gpu: -1 } })).toEqual({});
    expect(requestedLoad({ options: { num_gpu: 0 } })).toEqual({ num_gpu: 0 });
  });
});

describe("drainKey", () => {
  test("the model's key alone when the request sets nothing, then each option it sets in api.Runner's order", () => {
    expect(drainKey("qwen3:8b", {})).toBe("qwen3:8b");
    expect(drainKey("qwen3:8b", { shift: false, num_ctx: 8192, use_mmap: true })).toBe("qwen3:8b num_ctx=8192 use_mmap=true shift=false");
  });

  test("parseDrainKey reads a key back, whatever options it carries", () => {
    const random = seededRandom("drain keys round trip");
    for (let i = 0; i < 500; i++) {
      const load = randomLoad(random);
      expect(parseDrainKey(drainKey("llama3.2:latest", load))).toEqual({ modelKey: "llama3.2:latest", load });
    }
    // a model name with spaces (which Ollama refuses) is not read as options
    expect(parseDrainKey("my model:latest")).toEqual({ modelKey: "my model:latest", load: {} });
    expect(parseDrainKey("odd num_ctx=1:latest num_ctx=2")).toEqual({ modelKey: "odd num_ctx=1:latest", load: { num_ctx: 2 } });
  });
});

/** Each option left out or set to one of two values (values a model's context does not clamp). */
const VALUES: Record<keyof RequestedLoad, readonly (number | boolean)[]> = {
  num_ctx: [2048, 8192],
  num_batch: [256, 1024],
  num_gpu: [-1, 0, 20],
  main_gpu: [0, 1],
  use_mmap: [true, false],
  num_thread: [4, 8],
  draft_num_predict: [2, 6],
  shift: [true, false],
};

function randomBody(random: () => number): { options: Record<string, unknown>; shift?: boolean } {
  const options: Record<string, unknown> = {};
  let shift: boolean | undefined;
  for (const [field, values] of Object.entries(VALUES)) {
    if (random() < 0.6) continue;
    const value = values[Math.floor(random() * values.length)];
    if (field === "shift") shift = value as boolean;
    else options[field] = value;
  }
  return shift === undefined ? { options } : { options, shift };
}

const randomLoad = (random: () => number): RequestedLoad => requestedLoad(randomBody(random));

/** Ollama's decision, with the model's facts and Ollama's defaults filled in (the simulator's runner options). */
const ollamaReloads = (loaded: ReturnType<typeof randomBody>, wanted: ReturnType<typeof randomBody>, facts: ModelFacts) =>
  needsReload(loadOptionsOf(loaded.options, facts, loaded.shift), loadOptionsOf(wanted.options, facts, wanted.shift));

describe("the drain key against Ollama's needsReload", () => {
  const random = seededRandom("drain key vs needsReload");
  const pairs = Array.from({ length: 3000 }, () => [randomBody(random), randomBody(random)] as const);
  const key = (body: ReturnType<typeof randomBody>) => drainKey("m:latest", requestedLoad(body));

  test("work with one drain key runs on one runner: Ollama never reloads between the two, whatever the model", () => {
    for (const [a, b] of pairs) {
      // the same load-time options with other runtime options: one key
      const b2 = { ...a, options: { ...a.options, temperature: 0.5, num_predict: 7 } };
      expect(key(a)).toBe(key(b2));
      for (const facts of FACTS) expect(ollamaReloads(a, b2, facts)).toBe(false);
      if (key(a) === key(b)) for (const facts of FACTS) expect([ollamaReloads(a, b, facts), ollamaReloads(b, a, facts)]).toEqual([false, false]);
    }
  });

  test("when foreman expects no reload, Ollama does none (a negative num_gpu, both num_ctx automatic)", () => {
    // besides the random pairs, each first request against itself asking num_gpu -1 ("don't care")
    const dontCare = pairs.map(([a]) => [a, { ...a, options: { ...a.options, num_gpu: -1 } }] as const);
    let expectedNone = 0;
    for (const [a, b] of [...pairs, ...dontCare]) {
      if (reloadsBetween(key(a), key(b))) continue;
      expectedNone++;
      for (const facts of FACTS) expect(ollamaReloads(a, b, facts)).toBe(false);
    }
    expect(expectedNone).toBeGreaterThanOrEqual(dontCare.length);
  });

  test("two keys that set the same options reload; other differences only when a value left out is not the one set", () => {
    // besides the random pairs, each first request against itself with every value it sets changed
    const other = (field: string, value: unknown) => VALUES[field as keyof RequestedLoad].find((v) => v !== value && !(field === "num_gpu" && (v as number) < 0));
    const changed = pairs.map(([a]) => [a, { options: Object.fromEntries(Object.entries(a.options).map(([f, v]) => [f, (v as number) < 0 ? v : other(f, v)])), ...(a.shift === undefined ? {} : { shift: !a.shift }) }] as const);
    let reloads = 0;
    for (const [a, b] of [...pairs, ...changed]) {
      const [la, lb] = [requestedLoad(a), requestedLoad(b)];
      if (key(a) === key(b) || !sameFields(la, lb)) continue;
      reloads++;
      expect(reloadsBetween(key(a), key(b))).toBe(true);
      expect(ollamaReloads(a, b, LLAMA)).toBe(true);
    }
    expect(reloads).toBeGreaterThan(0);
    // a value left out that equals the one set: no reload by Ollama, a reload expected by foreman
    expect(needsReload(loadOptionsOf({}, LLAMA, undefined), loadOptionsOf({ num_ctx: 4096 }, LLAMA, undefined))).toBe(false);
    expect(reloadsBetween("m:latest", "m:latest num_ctx=4096")).toBe(true);
  });

  test("reloadsBetween is needsReload on what the keys say", () => {
    expect(reloadsBetween("m:latest num_gpu=20", "m:latest")).toBe(false);
    expect(reloadsBetween("m:latest", "m:latest num_gpu=20")).toBe(true);
    expect(reloadsBetween("m:latest num_ctx=8192", "m:latest num_ctx=8192")).toBe(false);
    expect(reloadsBetween("m:latest num_ctx=8192", "m:latest num_ctx=2048")).toBe(true);
    expect(needsReload(loadOptions({}), loadOptions({}))).toBe(false);
  });
});

const sameFields = (a: RequestedLoad, b: RequestedLoad) => Object.keys(a).sort().join() === Object.keys(b).sort().join();
