// Ollama decodes every request body as JSON whatever its Content-Type, and
// reports failures in Go's encoding/json words; this reproduces both.

import { SimError } from "./errors.ts";
import { scanJson } from "./gojson.ts";

export type JsonObject = Record<string, unknown>;

/** The JSON kind name Go's decoder uses in "cannot unmarshal X" messages. */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

/** Parses a request body into an object, or throws Ollama's 400. */
export function decodeBody(text: string, structName: string): JsonObject {
  if (text.trim() === "") throw new SimError(400, "missing request body");
  const scanned = scanJson(text);
  if ("error" in scanned) throw new SimError(400, scanned.error);
  const value: unknown = JSON.parse(text.slice(0, scanned.end));
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new SimError(400, `json: cannot unmarshal ${jsonKind(value)} into Go value of type api.${structName}`);
  }
  return value as JsonObject;
}

/** Checks a field's JSON kind like Go's typed decode; absent and null pass. */
export function expectField(body: JsonObject, structName: string, field: string, kind: "string" | "bool" | "number" | "array" | "object", goType: string = kind): void {
  const value = body[field];
  if (value === undefined || value === null) return;
  const actual = jsonKind(value);
  if (actual === kind) return;
  throw new SimError(400, `json: cannot unmarshal ${actual} into Go struct field ${structName}.${field} of type ${goType}`);
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

/** A /v1 body: empty is Go's bare `EOF`; any failure is the middleware's. */
export function decodeV1Body(text: string, structName: string): JsonObject {
  if (text.trim() === "") throw new SimError(400, "EOF", "middleware");
  return inMiddleware(() => decodeBody(text, structName));
}
