// POST /v1/messages/batches/{id}/cancel: queued requests canceled at once, a running one aborted;
// canceling until the last has ended. An ended batch: 409, not retried.
import { defineRoute, json } from "../../../../../src/http/route.ts";
import { findMessageBatch, MessageBatchSchema } from "../../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Cancel a message batch",
  tags: ["batches"],
  responses: { 200: { description: "the batch, canceling", schema: MessageBatchSchema }, 404: { description: "no such message batch" }, 409: { description: "the batch has ended (x-should-retry: false)" } },
  handle: async ({ params, url, services: { batches } }) => json(batches.messageView(await batches.cancel(findMessageBatch(batches, params.id).id), url.origin)),
});
