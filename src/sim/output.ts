// Deterministic "model output": the same model, input and seed always give
// the same tokens and vectors, so tests and benchmarks can compare bytes.

const WORDS = (
  "the a model answer quick brown fox jumps over lazy dog river stone light shadow morning evening " +
  "simple clear data token queue worker stream load swap cache signal metric value result reason " +
  "because therefore however indeed perhaps gently slowly bright quiet ancient modern garden ocean"
).split(" ");

/** FNV-1a 32-bit over a string. */
function hash32(text: string): number {
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

/** A call the model makes; `arguments` keeps insertion order, like Ollama's ordered map. */
export interface ToolCall {
  id: string;
  index: number;
  name: string;
  arguments: Record<string, unknown>;
}

/** A declared tool, as far as the model needs it: its name and JSON-schema parameters. */
export interface ToolSpec {
  name: string;
  parameters: unknown;
}

/** One step of the reply; `tokens` is what it adds to eval_count. */
export type Piece = ({ thinking: string } | { content: string } | { toolCall: ToolCall }) & { tokens: number };

export interface ReplyRequest {
  model: string;
  input: string;
  seed: number;
  /** Content tokens when nothing limits them. */
  count: number;
  /** Thinking tokens before the answer (0: no thinking). */
  thinking: number;
  /** Tools to call one of; empty to answer in text. */
  tools: ToolSpec[];
  /**
   * num_predict. `exact`: the model talks exactly this long (done_reason
   * "length"), which is how callers ask the simulator for long replies; else
   * it only caps the reply.
   */
  limit: { tokens: number; exact: boolean } | undefined;
}

type JsonSchema = { type?: unknown; enum?: unknown; items?: unknown; properties?: unknown; required?: unknown };

/** A value of the schema's type, drawn from `next`: the model's idea of an argument. */
function argumentFor(schema: JsonSchema, next: () => number): unknown {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[Math.floor(next() * schema.enum.length)];
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "integer") return 1 + Math.floor(next() * 100);
  if (type === "number") return Math.round(next() * 10_000) / 100;
  if (type === "boolean") return next() < 0.5;
  if (type === "array") return [argumentFor(objectOr(schema.items), next)];
  if (type === "object") return argumentsFor(schema, next);
  return WORDS[Math.floor(next() * WORDS.length)] ?? "the";
}

const objectOr = (value: unknown): JsonSchema => (typeof value === "object" && value !== null ? (value as JsonSchema) : {});

/** The required properties (all of them when none is required), in declaration order. */
function argumentsFor(schema: JsonSchema, next: () => number): Record<string, unknown> {
  const properties = Object.entries(objectOr(schema.properties));
  const required = Array.isArray(schema.required) ? schema.required : [];
  const chosen = required.length > 0 ? properties.filter(([name]) => required.includes(name)) : properties;
  return Object.fromEntries(chosen.map(([name, sub]) => [name, argumentFor(objectOr(sub), next)]));
}

/** A tool call id as Ollama shapes them (`call_` + 8 of [a-z0-9]), drawn from the seed. */
function callId(next: () => number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  return `call_${Array.from({ length: 8 }, () => alphabet[Math.floor(next() * alphabet.length)]).join("")}`;
}

/**
 * The whole reply, deterministic in model, input and seed: thinking first,
 * then either one call to one of the tools or the text answer. A limit the
 * reply reaches ends it with done_reason "length" (a tool call that does not
 * fit is not made).
 */
export function planReply(r: ReplyRequest): { pieces: Piece[]; doneReason: "stop" | "length" } {
  const budget = r.limit?.tokens ?? Infinity;
  const thinking = generateTokens(r.model, `think\u0000${r.input}`, r.seed, Math.min(r.thinking, budget)).map((t) => ({ thinking: t, tokens: 1 }));
  const left = budget - thinking.length;
  if (r.tools.length > 0 && left >= 1) {
    const next = prng(hash32(`${r.model}\u0000tools\u0000${r.input}\u0000${r.seed}`));
    const tool = r.tools[Math.floor(next() * r.tools.length)] ?? r.tools[0]!;
    const call: ToolCall = { id: callId(next), index: 0, name: tool.name, arguments: argumentsFor(objectOr(tool.parameters), next) };
    return { pieces: [...thinking, { toolCall: call, tokens: 1 + countTokens(JSON.stringify(call.arguments)) }], doneReason: "stop" };
  }
  const wanted = r.limit?.exact ? left : r.count;
  const content = generateTokens(r.model, r.input, r.seed, Math.min(wanted, left)).map((t) => ({ content: t, tokens: 1 }));
  const cut = r.limit !== undefined && (r.limit.exact || thinking.length < r.thinking || wanted > left);
  return { pieces: [...thinking, ...content], doneReason: cut ? "length" : "stop" };
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
export function float32Base64(vector: ArrayLike<number>): string {
  return Buffer.from(Float32Array.from(vector).buffer).toString("base64");
}
