// GET /v1/messages/batches/{id}/results: one JSONL line per request, {custom_id, result}, streamed
// from the results file written when the batch ended.
import { HttpError } from "../../../../../src/contract/http-error.ts";
import { defineRoute } from "../../../../../src/http/route.ts";
import { findMessageBatch } from "../../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Get a message batch's results",
  tags: ["batches"],
  responses: { 200: { description: "JSONL: {custom_id, result: {type: succeeded|errored|canceled|expired, message|error}}", contentType: "application/x-jsonl" }, 400: { description: "the batch has not ended" }, 404: { description: "no such message batch" } },
  handle: ({ params, services: { batches, files } }) => {
    const batch = findMessageBatch(batches, params.id);
    if (batch.outputFileId === null) throw new HttpError(400, `Batch ${batch.id} has not ended yet: its results are available once processing_status is ended.`);
    const file = files.get(batch.outputFileId)!;
    return new Response(Bun.file(files.path(file.id)), { headers: { "content-type": "application/x-jsonl", "content-length": String(file.bytes) } });
  },
});
