// GET /v1/batches/{id}: the batch, its counts as its lines stand.
import { defineRoute, json } from "../../../../src/http/route.ts";
import { BatchSchema, findBatch } from "../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Get a batch",
  tags: ["batches"],
  responses: { 200: { description: "the batch", schema: BatchSchema }, 404: { description: "no such batch" } },
  handle: ({ params, services: { batches } }) => json(batches.view(findBatch(batches, params.id))),
});
