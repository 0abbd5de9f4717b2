// POST /v1/batches/{id}/cancel: queued lines canceled at once, a running one aborted; the batch is
// cancelling until its last line has ended, then cancelled. An ended batch: 409, not retried.
import { defineRoute, json } from "../../../../src/http/route.ts";
import { BatchSchema, findBatch } from "../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Cancel a batch",
  tags: ["batches"],
  responses: { 200: { description: "the batch, cancelling (or already cancelled)", schema: BatchSchema }, 404: { description: "no such batch" }, 409: { description: "the batch has ended (x-should-retry: false)" } },
  handle: async ({ params, services: { batches } }) => json(batches.view(await batches.cancel(findBatch(batches, params.id).id))),
});
