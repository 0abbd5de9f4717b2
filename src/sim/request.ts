// Reading the fields every inference endpoint shares (model lookup with the
// per-endpoint error wording, options, seed, limits, think, image data) into
// plain values.

import { supports, type Catalogue, type ModelEntry } from "./catalogue.ts";
import { expectField, type JsonObject } from "./body.ts";
import { SimError } from "./errors.ts";
import { parseName } from "./names.ts";
import type { KeepAlive } from "./duration.ts";
import { checkOptionTypes, loadOptionsOf } from "./options.ts";
import { countTokens } from "./output.ts";
import type { Want } from "./scheduler.ts";

/** api.ThinkValue: unset, a bool, or a level. */
export type Think = boolean | "low" | "medium" | "high" | "max" | undefined;

/** How an endpoint words "no such model" (§3.2 — they differ on purpose). */
export type NotFoundStyle = "single" | "pull";

function notFound(model: string, style: NotFoundStyle): SimError {
  return style === "single" ? new SimError(404, `model '${model}' not found`) : new SimError(404, `model "${model}" not found, try pulling it first`);
}

/** Looks the model up or throws the endpoint's 404 (and 400 for malformed names). */
export function lookup(catalogue: Catalogue, model: string, style: NotFoundStyle): ModelEntry {
  if (model !== "" && !parseName(model)) throw new SimError(400, "invalid model name");
  const entry = catalogue.find(model);
  if (!entry) throw notFound(model, style);
  return entry;
}

export function optionsOf(body: JsonObject, structName: string): JsonObject {
  expectField(body, structName, "options", "object", "map[string]interface {}");
  const options = body.options;
  return typeof options === "object" && options !== null ? (options as JsonObject) : {};
}

/**
 * What scheduleRunner asks the scheduler for. Its option type check comes
 * after the capability checks, so callers run those first.
 */
export function wantOf(entry: ModelEntry, keepAlive: KeepAlive, options: JsonObject, shift?: boolean): Want {
  checkOptionTypes(options);
  const facts = { trainContext: entry.contextLength, family: entry.family, vision: supports(entry, "vision"), embedding: entry.kind === "embed" };
  return { entry, keepAlive, load: loadOptionsOf(options, facts, shift) };
}

/** A positive token limit, or undefined for "model decides". */
export function limitOf(value: unknown): number | undefined {
  return typeof value === "number" && value > 0 ? Math.floor(value) : undefined;
}

export function seedOf(value: unknown, fallback: number): number {
  return typeof value === "number" && value >= 0 ? value : fallback;
}

/** A chat message as far as the model's output depends on it. */
export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatInput {
  input: string;
  promptTokens: number;
}

/** The seeding text and prompt-token estimate for a list of chat messages. */
export function chatInput(messages: ChatMessage[]): ChatInput {
  let input = "";
  let promptTokens = 3;
  for (const m of messages) {
    input += `${m.role}\u0000${m.content}\u0000`;
    promptTokens += 4 + countTokens(m.content);
  }
  return { input, promptTokens };
}

const THINK_LEVELS = ["low", "medium", "high", "max"] as const;

/** api.ThinkValue's decode: a bool or a level; anything else fails at decode (400). */
export function thinkValue(value: unknown): Think {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const level = THINK_LEVELS.find((l) => l === value);
    if (level) return level;
    throw new SimError(400, `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", "max", true, or false)`);
  }
  throw new SimError(400, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)');
}

/** Go's base64.StdEncoding: padded, newlines ignored. */
export function isStdBase64(text: string): boolean {
  const compact = text.replace(/[\r\n]/g, "");
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(compact);
}

/** openai.decodeImageURL's checks: base64 data URLs of jpeg/jpg/png/webp (or no type) only. */
export function checkImageURL(url: string): void {
  if (url.startsWith("http://") || url.startsWith("https://")) {
    throw new SimError(400, "image URLs are not currently supported, please use base64 encoded data instead");
  }
  const prefix = ["data:;base64,", ...["jpeg", "jpg", "png", "webp"].map((t) => `data:image/${t};base64,`)].find((p) => url.startsWith(p));
  if (prefix === undefined || !isStdBase64(url.slice(prefix.length))) throw new SimError(400, "invalid image input");
}
