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
    413: { description: "the file is larger than 200 MB" },
  },
  handle: async ({ request, services: { config, files, queue } }) => json(fileObject(await receiveUpload(request, config, files, queue))),
});
