// GET /v1/messages/batches: message batches, newest first, in Anthropic's pages (before_id/after_id).
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../../../../src/http/route.ts";
import { MessageBatchPage } from "../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "List message batches",
  tags: ["batches"],
  query: Type.Object({
    before_id: Type.Optional(Type.String({ maxLength: 128, description: "the page of newer batches just before this one" })),
    after_id: Type.Optional(Type.String({ maxLength: 128, description: "the page of older batches just after this one" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: "default 20" })),
  }),
  responses: { 200: { description: "a page of message batches", schema: MessageBatchPage } },
  handle: ({ query, url, services: { batches } }) => {
    const { data, hasMore } = batches.list({ before: query.before_id, after: query.after_id, limit: query.limit ?? 20, messages: true });
    return json({ data: data.map((b) => batches.messageView(b, url.origin)), has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  },
});
