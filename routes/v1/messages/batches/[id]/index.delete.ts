// DELETE /v1/messages/batches/{id}: an ended batch and its results go; one still processing is a 400.
import { defineRoute, json } from "../../../../../src/http/route.ts";
import { findMessageBatch } from "../../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Delete an ended message batch",
  tags: ["batches"],
  responses: { 200: { description: "{id, type: message_batch_deleted}" }, 400: { description: "the batch has not ended" }, 404: { description: "no such message batch" } },
  handle: async ({ params, services: { batches } }) => {
    const batch = findMessageBatch(batches, params.id);
    await batches.delete(batch.id);
    return json({ id: batch.id, type: "message_batch_deleted" });
  },
});
