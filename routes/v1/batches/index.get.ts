// GET /v1/batches: batches, newest first, in OpenAI's cursor pages.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../../../src/http/route.ts";
import { BatchSchema, listPage } from "../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "List batches",
  tags: ["batches"],
  query: Type.Object({
    after: Type.Optional(Type.String({ maxLength: 128, description: "the last id of the previous page" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: "default 20" })),
  }),
  responses: { 200: { description: "a page of batches", schema: listPage(BatchSchema) } },
  handle: ({ query, services: { batches } }) => {
    const { data, hasMore } = batches.list({ after: query.after, limit: query.limit ?? 20 });
    return json({ object: "list", data: data.map((b) => batches.view(b)), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });
  },
});
