// GET /v1/files/{id}/content: the file's bytes, streamed from disk.
import { defineRoute } from "../../../../src/http/route.ts";
import { findFile } from "../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Get a file's content",
  tags: ["batches"],
  responses: { 200: { description: "the JSONL bytes", contentType: "application/jsonl" }, 404: { description: "no such file" } },
  handle: ({ params, services: { files } }) => {
    const file = findFile(files, params.id);
    return new Response(Bun.file(files.path(file.id)), { headers: { "content-type": "application/jsonl", "content-length": String(file.bytes) } });
  },
});
