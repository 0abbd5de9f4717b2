// Reading the fields every inference endpoint shares (model lookup with the
// per-endpoint error wording, options, seed, limits) into plain values.

import { supports, type Catalogue, type ModelEntry } from "./catalogue.ts";
import { expectField, type JsonObject } from "./body.ts";
import { SimError } from "./errors.ts";
import { parseName } from "./names.ts";
import type { KeepAlive } from "./duration.ts";
import { checkOptionTypes, loadOptionsOf } from "./options.ts";
import { countTokens } from "./output.ts";
import type { Want } from "./scheduler.ts";

/** How an endpoint words "no such model" (§3.2 — they differ on purpose). */
export type NotFoundStyle = "single" | "pull";

export function notFound(model: string, style: NotFoundStyle): SimError {
  return style === "single" ? new SimError(404, `model '${model}' not found`) : new SimError(404, `model "${model}" not found, try pulling it first`);
}

/** Looks the model up or throws the endpoint's 404 (and 400 for malformed names). */
export function lookup(catalogue: Catalogue, model: string, style: NotFoundStyle): ModelEntry {
  if (model !== "" && !parseName(model)) throw new SimError(400, "invalid model name");
  const entry = catalogue.find(model);
  if (!entry) throw notFound(model, style);
  return entry;
}

/** Throws `"NAME" does not support VERB` unless the model can complete text. */
export function requireCompletion(entry: ModelEntry, model: string, verb: "chat" | "generate"): void {
  if (!supports(entry, "completion")) throw new SimError(400, `${JSON.stringify(model)} does not support ${verb}`);
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

/** Text of a chat message's content: a string or OpenAI-style parts. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part: unknown) => (typeof part === "object" && part !== null && typeof (part as JsonObject).text === "string" ? (part as JsonObject).text : ""))
    .join("");
}

export interface ChatInput {
  input: string;
  promptTokens: number;
}

/** The seeding text and prompt-token estimate for a list of chat messages. */
export function chatInput(messages: unknown[]): ChatInput {
  let input = "";
  let promptTokens = 3;
  for (const message of messages) {
    const m = typeof message === "object" && message !== null ? (message as JsonObject) : {};
    const text = contentText(m.content);
    input += `${String(m.role ?? "")}\u0000${text}\u0000`;
    promptTokens += 4 + countTokens(text);
  }
  return { input, promptTokens };
}

const THINK_LEVELS = ["low", "medium", "high", "max"];

/** `think` is a bool or a level; anything else fails at decode (400). */
export function thinkOf(value: unknown): boolean {
  if (value === undefined || value === null || typeof value === "boolean") return value === true;
  if (typeof value === "string" && THINK_LEVELS.includes(value)) return true;
  if (typeof value === "string") throw new SimError(400, `invalid think value: ${JSON.stringify(value)} (must be "high", "medium", "low", "max", true, or false)`);
  throw new SimError(400, 'think must be a boolean or string ("high", "medium", "low", "max", true, or false)');
}

/** Thinking requested of a model without the capability is Ollama's 400. */
export function requireThinking(entry: ModelEntry, model: string, think: boolean): void {
  if (think && !supports(entry, "thinking")) throw new SimError(400, `${JSON.stringify(model)} does not support thinking`);
}
