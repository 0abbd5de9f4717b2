// POST /v1/messages/batches: Anthropic's Message Batches API on the batch engine (ADR 0039). The
// requests are read as they arrive (up to 256 MB, exempt from FOREMAN_MAX_BODY_BYTES), each checked
// as a Messages request and written to disk; 200 with the batch once it is durable, processing at once.
import { defineRoute, json } from "../../../../src/http/route.ts";
import { MessageBatchSchema } from "../../../../src/http/batch-schemas.ts";
import { receiveMessageBatch } from "../../../../src/http/message-batch-body.ts";

/** Anthropic's batches end 24 hours after their creation; there is no window to choose. */
const MESSAGE_BATCH_WINDOW_MS = 24 * 3_600_000;

export default defineRoute({
  summary: "Create a message batch (Anthropic): {requests: [{custom_id, params}]}",
  tags: ["batches"],
  responses: {
    200: { description: "the batch, in progress", schema: MessageBatchSchema },
    400: { description: "not {requests: [...]}, a request that is not a valid non-streaming Messages request, a custom_id repeated, or more than 100,000 requests" },
    408: { description: "no byte of the body arrived for FOREMAN_BODY_TIMEOUT_MS (only a pause ends it, never its length); nothing was kept" },
    413: { description: "the body is larger than 256 MB" },
    507: { description: "the disk foreman keeps its files on is full: nothing was kept; sent with x-should-retry: false" },
  },
  handle: async ({ request, url, services: { config, files, batches } }) => {
    const requests = await receiveMessageBatch(request, config, files);
    const batch = await batches.createMessageBatch(requests, MESSAGE_BATCH_WINDOW_MS);
    return json(batches.messageView(batch, url.origin));
  },
});
