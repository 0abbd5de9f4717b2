// The wire shapes of OpenAI's Files and Batches APIs as foreman serves them (ADR 0039), for the
// route schemas and /openapi.json, and the lookups that 404 in OpenAI's envelope.
import { Type, type TSchema } from "@sinclair/typebox";
import { HttpError } from "../contract/http-error.ts";
import { MESSAGE_BATCH_PURPOSE, type FileRecord, type Files } from "../queue/files.ts";
import { BATCH_STATES, type BatchRecord } from "../queue/batches.ts";
import { MESSAGES_ENDPOINT, type BatchRunner } from "../engine/batches.ts";

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
  // a message batch's requests and results are reached through the batch only
  if (!file || file.purpose === MESSAGE_BATCH_PURPOSE) throw new HttpError(404, `No such File object: ${id}`, "/id");
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
    metadata: Type.Optional(
      Type.Union([Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 512 }), { maxProperties: 16 }), Type.Null()], {
        description:
          "up to 16 string pairs, kept with the batch. foreman reads two keys: `webhook_url`, the batch's own webhook for its end event (besides FOREMAN_WEBHOOK_URL); `line_webhooks`, `true` or a comma-separated list of job events (`job.done,job.failed`) to have each line send its own signed job webhooks to `webhook_url`, else FOREMAN_WEBHOOK_URL (off by default)",
      }),
    ),
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
  if (!batch || batch.endpoint === MESSAGES_ENDPOINT) throw new HttpError(404, `No batch found with id '${id}'.`, "/id");
  return batch;
}

/** A message batch by id, or Anthropic's 404 (an OpenAI batch is not one). */
export function findMessageBatch(batches: BatchRunner, id: string | undefined): BatchRecord {
  const batch = id === undefined ? null : batches.get(id);
  if (!batch || batch.endpoint !== MESSAGES_ENDPOINT) throw new HttpError(404, `No message batch found with id '${id}'.`, "/id");
  return batch;
}

const Rfc3339 = Type.Union([Type.String({ format: "date-time" }), Type.Null()]);

/** Anthropic's MessageBatch as foreman serves it. */
export const MessageBatchSchema = Type.Object({
  id: Type.String(),
  type: Type.Literal("message_batch"),
  processing_status: Type.Union([Type.Literal("in_progress"), Type.Literal("canceling"), Type.Literal("ended")]),
  request_counts: Type.Object(
    { processing: Type.Integer(), succeeded: Type.Integer(), errored: Type.Integer(), canceled: Type.Integer(), expired: Type.Integer() },
    { description: "until the batch has ended every request counts as processing" },
  ),
  created_at: Type.String({ format: "date-time" }),
  expires_at: Type.String({ format: "date-time", description: "24 hours after created_at" }),
  ended_at: Rfc3339,
  cancel_initiated_at: Rfc3339,
  archived_at: Type.Null(),
  results_url: Type.Union([Type.String(), Type.Null()], { description: "GET it for the results (JSONL) once the batch has ended" }),
});

/** Anthropic's page: newest first, `after_id` = last_id for the next page, `before_id` = first_id for the previous. */
export const MessageBatchPage = Type.Object({ data: Type.Array(MessageBatchSchema), has_more: Type.Boolean(), first_id: Type.Union([Type.String(), Type.Null()]), last_id: Type.Union([Type.String(), Type.Null()]) });
