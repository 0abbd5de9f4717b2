// Ollama decodes every request body as JSON whatever its Content-Type, and
// reports failures in Go's encoding/json words; this reproduces both.

import { SimError } from "./errors.ts";

export type JsonObject = Record<string, unknown>;

/** The JSON kind name Go's decoder uses in "cannot unmarshal X" messages. */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

/** A Go-decoder-like message for text that JSON.parse rejected. */
export function goDecodeError(text: string): string {
  const trimmed = text.trim();
  const first = trimmed[0] ?? "";
  if (!/[{["\-0-9tfn]/.test(first)) return `invalid character '${first}' looking for beginning of value`;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < trimmed.length; i++) {
    const c = trimmed[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
  }
  if (depth > 0 || inString) return "unexpected EOF";
  if (first !== "{") return `json: cannot unmarshal ${first === "[" ? "array" : "value"} into Go value of type map[string]interface {}`;
  return "invalid character looking for beginning of object key string";
}

/** Parses a request body into an object, or throws Ollama's 400. */
export function decodeBody(text: string, structName: string): JsonObject {
  if (text.trim() === "") throw new SimError(400, "missing request body");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SimError(400, goDecodeError(text));
  }
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
