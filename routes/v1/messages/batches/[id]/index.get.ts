// GET /v1/messages/batches/{id}: the message batch; its counts are processing until it has ended.
import { defineRoute, json } from "../../../../../src/http/route.ts";
import { findMessageBatch, MessageBatchSchema } from "../../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Get a message batch",
  tags: ["batches"],
  responses: { 200: { description: "the batch", schema: MessageBatchSchema }, 404: { description: "no such message batch" } },
  handle: ({ params, url, services: { batches } }) => json(batches.messageView(findMessageBatch(batches, params.id), url.origin)),
});
