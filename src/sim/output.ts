// Deterministic "model output": the same model, input and seed always give
// the same tokens and vectors, so tests and benchmarks can compare bytes.

const WORDS = (
  "the a model answer quick brown fox jumps over lazy dog river stone light shadow morning evening " +
  "simple clear data token queue worker stream load swap cache signal metric value result reason " +
  "because therefore however indeed perhaps gently slowly bright quiet ancient modern garden ocean"
).split(" ");

/** FNV-1a 32-bit over a string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` tokens; the first is capitalised, later ones carry a leading space. */
export function generateTokens(model: string, input: string, seed: number, count: number): string[] {
  const next = prng(hash32(`${model}\u0000${input}\u0000${seed}`));
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = WORDS[Math.floor(next() * WORDS.length)] ?? "the";
    tokens.push(i === 0 ? word[0]?.toUpperCase() + word.slice(1) : ` ${word}`);
  }
  if (count > 0) tokens[count - 1] += ".";
  return tokens;
}

/** A rough token count: words and punctuation runs. */
export function countTokens(text: string): number {
  return (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length;
}

/** Stand-in token ids for generate's `context`. */
export function tokenIds(text: string): number[] {
  return (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).map((t) => hash32(t) % 128000);
}

/** A float32-precision vector in [-1, 1), not normalized. */
export function rawEmbedding(model: string, text: string, dims: number): number[] {
  const next = prng(hash32(`${model}\u0000${text}`));
  return Array.from({ length: dims }, () => Math.fround(next() * 2 - 1));
}

export function normalize(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0)) || 1;
  return vector.map((v) => Math.fround(v / norm));
}

/** Little-endian float32 bytes, base64: OpenAI's `encoding_format: "base64"`. */
export function float32Base64(vector: number[]): string {
  return Buffer.from(new Float32Array(vector).buffer).toString("base64");
}
