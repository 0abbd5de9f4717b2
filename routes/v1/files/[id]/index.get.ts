// GET /v1/files/{id}: one file's record.
import { defineRoute, json } from "../../../../src/http/route.ts";
import { fileObject } from "../../../../src/queue/files.ts";
import { FileSchema, findFile } from "../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Get a file",
  tags: ["batches"],
  responses: { 200: { description: "the file", schema: FileSchema }, 404: { description: "no such file" } },
  handle: ({ params, services: { files } }) => json(fileObject(findFile(files, params.id))),
});
