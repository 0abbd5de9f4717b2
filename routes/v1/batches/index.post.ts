// POST /v1/batches: a batch over an uploaded file (OpenAI's Batch API, ADR 0039). 200 with the
// batch validating, once it is on disk; validation and queueing follow.
import { defineRoute, json } from "../../../src/http/route.ts";
import { HttpError } from "../../../src/contract/http-error.ts";
import { BatchCreate, BatchSchema, findFile } from "../../../src/http/batch-schemas.ts";
import { BATCH_ENDPOINTS, windowMs } from "../../../src/engine/batches.ts";
import { BATCH_WEBHOOK_KEY } from "../../../src/webhooks/batch-outbox.ts";

export default defineRoute({
  summary: "Create a batch",
  tags: ["batches"],
  body: BatchCreate,
  responses: {
    200: { description: "the batch, validating", schema: BatchSchema },
    400: { description: "an endpoint a batch cannot name, a completion_window that is not a duration, an input file that is not a batch file, or a metadata.webhook_url foreman may not call" },
    404: { description: "no such input file" },
  },
  handle: async ({ body, services: { files, batches, checkWebhookUrl } }) => {
    if (!(BATCH_ENDPOINTS as readonly string[]).includes(body.endpoint)) throw new HttpError(400, `endpoint: expected one of ${BATCH_ENDPOINTS.join(", ")}; got ${JSON.stringify(body.endpoint)}`, "/endpoint");
    const window = windowMs(body.completion_window);
    if (typeof window !== "number") throw new HttpError(400, `completion_window: ${window.error}`, "/completion_window");
    const file = findFile(files, body.input_file_id);
    if (file.purpose !== "batch") throw new HttpError(400, `input_file_id: ${file.id} has purpose ${file.purpose}, not batch`, "/input_file_id");
    const hook = body.metadata?.[BATCH_WEBHOOK_KEY];
    const refused = hook === undefined ? undefined : await checkWebhookUrl(hook);
    if (refused) throw new HttpError(400, `metadata.${BATCH_WEBHOOK_KEY}: ${refused}`, `/metadata/${BATCH_WEBHOOK_KEY}`);
    const batch = await batches.create({ endpoint: body.endpoint, inputFileId: file.id, completionWindow: body.completion_window, windowMs: window, metadata: body.metadata ?? null, outputExpiresAfter: body.output_expires_after?.seconds ?? null });
    return json(batches.view(batch));
  },
});
