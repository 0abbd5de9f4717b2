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
  if (schema.description) return `${message.toLowerCase()} (${schema.description})`;
  return message.charAt(0).toLowerCase() + message.slice(1);
}
