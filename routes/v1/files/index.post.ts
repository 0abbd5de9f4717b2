// POST /v1/files: a batch input file (OpenAI's Files API, purpose=batch), streamed to disk beside
// the database and on disk before the reply (ADR 0039).
import { defineRoute, json } from "../../../src/http/route.ts";
import { receiveUpload } from "../../../src/http/upload.ts";
import { fileObject } from "../../../src/queue/files.ts";
import { FileSchema } from "../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Upload a batch input file (multipart: file, purpose=batch)",
  tags: ["batches"],
  responses: {
    200: { description: "the file, fsync'd and recorded", schema: FileSchema },
    400: { description: "not multipart, no file, purpose other than batch, or more than 50,000 lines" },
    408: { description: "no byte of the upload arrived for FOREMAN_BODY_TIMEOUT_MS (only a pause ends an upload, never its length); nothing was kept" },
    413: { description: "the file is larger than 200 MB" },
    507: { description: "the disk foreman keeps its files on is full: nothing was kept; sent with x-should-retry: false" },
  },
  handle: async ({ request, services: { config, files, queue } }) => json(fileObject(await receiveUpload(request, config, files, queue))),
});
