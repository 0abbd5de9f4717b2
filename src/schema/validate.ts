// Checking a decoded value against a TypeBox schema: the first problem becomes a 400 (or the
// status the caller gives) that names the field. Used at the HTTP edge and by the queue's submission rules alike.
import type { Static, TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { HttpError } from "../contract/http-error.ts";

/** Validates a decoded value; the first problem becomes a 400 (or `status`) naming the field. */
export function validate<S extends TSchema>(schema: S, value: unknown, prefix = "", status = 400): Static<S> {
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  const path = prefix + (first?.path ?? "");
  const what = first ? describeError(first.message, first.schema) : "invalid value";
  throw new HttpError(status, `${path || "body"}: ${what}`, path || undefined);
}

function describeError(message: string, schema: TSchema): string {
  // TypeBox says only "Expected union value" for a value outside a set of literals: name the set
  const literals = literalsOf(schema);
  const what = literals ? `expected one of ${literals.join(", ")}` : message.charAt(0).toLowerCase() + message.slice(1);
  return schema.description ? `${what} (${schema.description})` : what;
}

/** The values a union of literals allows (`queued`, `loading`, …), or undefined for any other schema. */
function literalsOf(schema: TSchema): string[] | undefined {
  const members = schema.anyOf as TSchema[] | undefined;
  if (!members?.length || !members.every((m) => "const" in m)) return undefined;
  return members.map((m) => (typeof m.const === "string" ? m.const : JSON.stringify(m.const)));
}
