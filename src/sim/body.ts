// Ollama decodes every request body as JSON whatever its Content-Type, and
// reports failures in Go's encoding/json words; this reproduces both.

import { SimError } from "./errors.ts";
import { decodeGoBody, fieldKindError } from "../ollama/go-json.ts";

export type JsonObject = Record<string, unknown>;

/** Parses a request body into an object of Go type `pkg.structName`, or throws Ollama's 400. */
export function decodeBody(text: string, structName: string, pkg = "api"): JsonObject {
  const decoded = decodeGoBody(text, `${pkg}.${structName}`);
  if (decoded.ok) return decoded.body;
  throw new SimError(400, decoded.empty ? "missing request body" : decoded.error);
}

/** Checks a field's JSON kind like Go's typed decode; absent and null pass. */
export function expectField(body: JsonObject, structName: string, field: string, kind: "string" | "bool" | "number" | "array" | "object", goType: string = kind): void {
  const error = fieldKindError(body, structName, field, kind, goType);
  if (error) throw new SimError(400, error);
}

export function stringField(body: JsonObject, field: string): string {
  const value = body[field];
  return typeof value === "string" ? value : "";
}

/** A JSON object, or an empty one for anything else. */
export const asObject = (value: unknown): JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};

/** Go's %T of a value decoded into `any`. */
export function goTypeOf(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (typeof value === "number") return "float64";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "string") return "string";
  return Array.isArray(value) ? "[]interface {}" : "map[string]interface {}";
}

/** Runs a /v1 middleware step: its 400s are written by c.JSON, before the dialect's writer exists. */
export function inMiddleware<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof SimError) throw new SimError(err.status, err.message, "middleware");
    throw err;
  }
}

/** A /v1 body (an `openai.` or `anthropic.` struct): empty is Go's bare `EOF`; any failure is the middleware's. */
export function decodeV1Body(text: string, structName: string, pkg: "openai" | "anthropic" = "openai"): JsonObject {
  const decoded = decodeGoBody(text, `${pkg}.${structName}`);
  if (decoded.ok) return decoded.body;
  throw new SimError(400, decoded.error, "middleware");
}
