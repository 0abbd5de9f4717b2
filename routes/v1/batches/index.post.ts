// POST /v1/batches: a batch over an uploaded file (OpenAI's Batch API, ADR 0039). 200 with the
// batch validating, once it is on disk; validation and queueing follow.
import { defineRoute, json } from "../../../src/http/route.ts";
import { HttpError } from "../../../src/contract/http-error.ts";
import { BatchCreate, BatchSchema, findFile } from "../../../src/http/batch-schemas.ts";
import { BATCH_ENDPOINTS, windowMs } from "../../../src/engine/batches.ts";
import { BATCH_WEBHOOK_KEY, LINE_WEBHOOKS_KEY, lineWebhook, lineWebhookEvents } from "../../../src/webhooks/batch-outbox.ts";

export default defineRoute({
  summary: "Create a batch",
  tags: ["batches"],
  body: BatchCreate,
  responses: {
    200: { description: "the batch, validating", schema: BatchSchema },
    400: {
      description:
        "an endpoint a batch cannot name, a completion_window that is not a duration, an input file that is not a batch file, a metadata.webhook_url foreman may not call, or a metadata.line_webhooks that is not true, false or a list of job events, or that has no webhook to go to",
    },
    404: { description: "no such input file" },
  },
  handle: async ({ body, services: { files, batches, checkWebhookUrl, config } }) => {
    if (!(BATCH_ENDPOINTS as readonly string[]).includes(body.endpoint)) throw new HttpError(400, `endpoint: expected one of ${BATCH_ENDPOINTS.join(", ")}; got ${JSON.stringify(body.endpoint)}`, "/endpoint");
    const window = windowMs(body.completion_window);
    if (typeof window !== "number") throw new HttpError(400, `completion_window: ${window.error}`, "/completion_window");
    const file = findFile(files, body.input_file_id);
    if (file.purpose !== "batch") throw new HttpError(400, `input_file_id: ${file.id} has purpose ${file.purpose}, not batch`, "/input_file_id");
    const hook = body.metadata?.[BATCH_WEBHOOK_KEY];
    const refused = hook === undefined ? undefined : await checkWebhookUrl(hook);
    if (refused) throw new HttpError(400, `metadata.${BATCH_WEBHOOK_KEY}: ${refused}`, `/metadata/${BATCH_WEBHOOK_KEY}`);
    // the lines' own job webhooks, asked for (ADR 0043): a value foreman reads, and somewhere to send them
    const lines = lineWebhookEvents(body.metadata?.[LINE_WEBHOOKS_KEY]);
    const badLines = (why: string) => new HttpError(400, `metadata.${LINE_WEBHOOKS_KEY}: ${why}`, `/metadata/${LINE_WEBHOOKS_KEY}`);
    if (lines !== null && "error" in lines) throw badLines(lines.error);
    if (lines !== null && !lineWebhook({ metadata: body.metadata ?? null }, config.webhookUrl)) throw badLines(`no webhook to send the lines' events to: set metadata.${BATCH_WEBHOOK_KEY}, or FOREMAN_WEBHOOK_URL on the server`);
    const batch = await batches.create({ endpoint: body.endpoint, inputFileId: file.id, completionWindow: body.completion_window, windowMs: window, metadata: body.metadata ?? null, outputExpiresAfter: body.output_expires_after?.seconds ?? null });
    return json(batches.view(batch));
  },
});
