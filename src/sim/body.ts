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
