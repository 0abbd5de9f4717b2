// How Ollama reads an inference body up to the point where it needs the model: the facts
// foreman's edge uses to answer, itself and in Ollama's exact words, what Ollama would answer
// without doing any work — a body it cannot decode, one without a model, one its middleware
// refuses first — and to tell an unload (which goes straight to the target) from real work
// (ADR 0019). Each kind states its own facts; `admit` applies them in Ollama's order. Pure.
import { isZeroKeepAlive } from "../src/ollama/go-duration.ts";
import { decodeGoBody, fieldKindError } from "../src/ollama/go-json.ts";
import { INVALID_MODEL_NAME, validModelName } from "../src/ollama/model-name.ts";

type Body = Record<string, unknown>;

export interface OllamaReading {
  /** The Go struct the body decodes into: package and name (`api`, `ChatRequest`). */
  struct: readonly [pkg: string, name: string];
  /** A /v1 middleware's checks, which come before the model, in Ollama's order: the first 400's message. */
  beforeModel?(body: Body): string | undefined;
  /** The handler's first checks, before it needs the model (on /v1 its 400 goes through the dialect's writer). */
  inHandler?(body: Body): string | undefined;
  /** Checks the handler makes between the model's name and looking it up: a body failing one is not answered 404 by foreman. */
  beforeLookup?(body: Body): string | undefined;
  /** The answer to a model that is empty or only spaces (`raw` as sent). */
  noModel(raw: string): { status: 400 | 404; message: string };
  /** The 404 message for a model the target does not have (`model` as sent). */
  notFound(model: string): string;
  /** The body only asks to unload its model (Ollama's idiom: keep_alive zero and nothing to do). */
  unloads?(body: Body): boolean;
}

/**
 * Which of Ollama's code paths answers a refusal, which decides its bytes on /v1: the decoder or a
 * /v1 middleware (gin's c.JSON: `; charset=utf-8`, no newline) or the handler (its error re-encoded
 * by the dialect's writer: `application/json` and a newline). The same on /api/*.
 */
export type Refuser = "middleware" | "handler";

export type Admission =
  /** `lookupNext`: the model lookup is Ollama's next check, so an unknown model is its 404. */
  | { ok: true; model: string; unload: boolean; lookupNext: boolean; body: Body }
  | { ok: false; status: number; message: string; by: Refuser };

/** Ollama's two wordings of "no such model" (chat and generate; the embedding handlers). */
export const notFoundQuoted = (model: string): string => `model '${model}' not found`;
export const notFoundPullIt = (model: string): string => `model ${JSON.stringify(model)} not found, try pulling it first`;

/** The chat and generate handlers' answer to an empty model: 400 `model is required`. */
export const modelRequired = () => ({ status: 400 as const, message: "model is required" });
/** The generate and embed handlers' answer to an empty model: a 404 naming it as sent. */
export const modelNotFound = (raw: string) => ({ status: 404 as const, message: notFoundQuoted(raw) });

/** The chat and generate handlers' first check. */
export function topLogprobsInRange(body: Body): string | undefined {
  const n = body.top_logprobs;
  return typeof n === "number" && (n < 0 || n > 20) ? "top_logprobs must be between 0 and 20" : undefined;
}

/** The unload idiom: keep_alive zero, and `field` (the prompt, the messages) empty or absent. */
export function unloadIdiom(field: "prompt" | "messages"): (body: Body) => boolean {
  return (body) => {
    const value = body[field];
    const nothing = value === undefined || value === null || value === "" || (Array.isArray(value) && value.length === 0);
    return nothing && isZeroKeepAlive(body.keep_alive);
  };
}

/**
 * A body as Ollama reads it, in its order: decode (an empty body is `missing request body` on
 * /api/*, Go's bare `EOF` on /v1; a syntax error is the decoder's text; a model that is not a
 * string is a type error), the middleware's checks, the handler's first ones, then the model (trimmed, as Ollama's
 * model reference does; a name Ollama cannot parse is its 400 `invalid model name`). Other fields are the target's to judge, once the request's turn comes.
 */
export function admit(reading: OllamaReading, text: string): Admission {
  const [pkg, name] = reading.struct;
  // Ollama's own handlers say "missing request body"; the /v1 layer passes on the decoder's EOF
  const native = pkg === "api";
  const decoded = decodeGoBody(text, `${pkg}.${name}`);
  if (!decoded.ok) return { ok: false, status: 400, message: decoded.empty && native ? "missing request body" : decoded.error, by: "middleware" };
  const body = decoded.body;
  const wrongKind = fieldKindError(body, name, "model", "string");
  if (wrongKind) return { ok: false, status: 400, message: wrongKind, by: "middleware" };
  const refused = reading.beforeModel?.(body);
  if (refused) return { ok: false, status: 400, message: refused, by: "middleware" };
  const checked = reading.inHandler?.(body);
  if (checked) return { ok: false, status: 400, message: checked, by: "handler" };
  const model = typeof body.model === "string" ? body.model : "";
  if (model.trim() === "") return { ok: false, ...reading.noModel(model), by: "handler" };
  if (!validModelName(model)) return { ok: false, status: 400, message: INVALID_MODEL_NAME, by: "handler" };
  return { ok: true, model, unload: reading.unloads?.(body) ?? false, lookupNext: reading.beforeLookup?.(body) === undefined, body };
}
