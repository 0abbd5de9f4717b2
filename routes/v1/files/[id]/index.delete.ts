// DELETE /v1/files/{id}: the file's row and its bytes.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../../../../src/http/route.ts";
import { findFile } from "../../../../src/http/batch-schemas.ts";

export default defineRoute({
  summary: "Delete a file",
  tags: ["batches"],
  responses: { 200: { description: "deleted", schema: Type.Object({ id: Type.String(), object: Type.Literal("file"), deleted: Type.Boolean() }) }, 404: { description: "no such file" } },
  handle: async ({ params, services: { files, queue } }) => {
    const file = findFile(files, params.id);
    queue.atomically(() => files.delete(file.id));
    await queue.settled();
    files.discard(file.id);
    return json({ id: file.id, object: "file", deleted: true });
  },
});
