// The wire shapes of OpenAI's Files and Batches APIs as foreman serves them (ADR 0039), for the
// route schemas and /openapi.json, and the lookups that 404 in OpenAI's envelope.
import { Type, type TSchema } from "@sinclair/typebox";
import { HttpError } from "../contract/http-error.ts";
import type { FileRecord, Files } from "../queue/files.ts";
import { BATCH_STATES, type BatchRecord } from "../queue/batches.ts";
import type { BatchRunner } from "../engine/batches.ts";

export const FileSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal("file"),
  bytes: Type.Integer(),
  created_at: Type.Integer({ description: "Unix seconds" }),
  filename: Type.String(),
  purpose: Type.String({ description: "batch (uploads) or batch_output (a batch's output and error files)" }),
  status: Type.Literal("processed"),
  status_details: Type.Null(),
  expires_at: Type.Union([Type.Integer(), Type.Null()], { description: "Unix seconds: when the file is deleted (uploads: expires_after, 30 days by default; results: the batch's output_expires_after)" }),
});

/** OpenAI's cursor page, as openai-node's CursorPage walks it (`after` = the last id). */
export const listPage = (item: TSchema) =>
  Type.Object({ object: Type.Literal("list"), data: Type.Array(item), first_id: Type.Union([Type.String(), Type.Null()]), last_id: Type.Union([Type.String(), Type.Null()]), has_more: Type.Boolean() });

export function findFile(files: Files, id: string | undefined): FileRecord {
  const file = id === undefined ? null : files.get(id);
  if (!file) throw new HttpError(404, `No such File object: ${id}`, "/id");
  return file;
}

const Time = Type.Union([Type.Integer(), Type.Null()], { description: "Unix seconds" });

export const BatchSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal("batch"),
  endpoint: Type.String(),
  input_file_id: Type.String(),
  completion_window: Type.String(),
  status: Type.Union(BATCH_STATES.map((s) => Type.Literal(s))),
  output_file_id: Type.Union([Type.String(), Type.Null()]),
  error_file_id: Type.Union([Type.String(), Type.Null()]),
  errors: Type.Union([Type.Object({ object: Type.Literal("list"), data: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), param: Type.Union([Type.String(), Type.Null()]), line: Type.Union([Type.Integer(), Type.Null()]) })) }), Type.Null()], {
    description: "an invalid input file: each bad line (the first 100; a last entry says how many more)",
  }),
  created_at: Type.Integer(),
  in_progress_at: Time,
  expires_at: Time,
  finalizing_at: Time,
  completed_at: Time,
  failed_at: Time,
  expired_at: Time,
  cancelling_at: Time,
  cancelled_at: Time,
  request_counts: Type.Object({ total: Type.Integer(), completed: Type.Integer(), failed: Type.Integer() }),
  metadata: Type.Union([Type.Record(Type.String(), Type.String()), Type.Null()]),
  model: Type.Union([Type.String(), Type.Null()], { description: "the model every line names, when they all name one" }),
  usage: Type.Union([Type.Object({}, { additionalProperties: true, description: "input_tokens, output_tokens, total_tokens summed over the lines (OpenAI's names)" }), Type.Null()]),
});

export const BatchCreate = Type.Object(
  {
    input_file_id: Type.String({ minLength: 1, maxLength: 128 }),
    endpoint: Type.String({ maxLength: 128, description: "/v1/chat/completions, /v1/completions, /v1/embeddings or /v1/responses" }),
    completion_window: Type.String({ minLength: 1, maxLength: 32, description: "24h (OpenAI's only value); foreman also takes any Go duration (90m, 48h) or days (7d)" }),
    metadata: Type.Optional(Type.Union([Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 16 }), Type.Null()])),
    output_expires_after: Type.Optional(
      Type.Object(
        { anchor: Type.Literal("created_at"), seconds: Type.Integer({ minimum: 3600, maximum: 2592000 }) },
        { description: "how long the output and error files are kept after they are written (default 30 days)" },
      ),
    ),
  },
  { additionalProperties: false },
);

export function findBatch(batches: BatchRunner, id: string | undefined): BatchRecord {
  const batch = id === undefined ? null : batches.get(id);
  if (!batch) throw new HttpError(404, `No batch found with id '${id}'.`, "/id");
  return batch;
}
