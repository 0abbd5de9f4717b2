// GET /v1/files: batch files, newest first, in OpenAI's cursor pages.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../../../src/http/route.ts";
import { fileObject } from "../../../src/queue/files.ts";
import { FileSchema, listPage } from "../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "List files",
  tags: ["batches"],
  query: Type.Object({
    purpose: Type.Optional(Type.String({ maxLength: 64 })),
    order: Type.Optional(Type.Union([Type.Literal("asc"), Type.Literal("desc")], { description: "by creation; default desc" })),
    after: Type.Optional(Type.String({ maxLength: 128, description: "the last id of the previous page" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: "default 10,000" })),
  }),
  responses: { 200: { description: "a page of files", schema: listPage(FileSchema) } },
  handle: ({ query, services: { files } }) => {
    const { data, hasMore } = files.list({ purpose: query.purpose, order: query.order ?? "desc", after: query.after, limit: query.limit ?? 10_000 });
    return json({ object: "list", data: data.map(fileObject), first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: hasMore });
  },
});
