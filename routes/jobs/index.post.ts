// POST /jobs: accept work now, run it when its turn comes. 202 with the job once it is
// committed; `Prefer: wait=N` holds the reply up to N seconds for a finished job.
import { defineRoute, json } from "../../src/http/route.ts";
import { JobSchema, jobServerTiming, jobView } from "../../src/queue/view.ts";
import { Submission } from "../../src/queue/submit.ts";
import { HttpError } from "../../src/contract/http-error.ts";
import { isTerminal } from "../../src/contract/states.ts";
import { preferWaitSeconds } from "../../src/contract/prefer.ts";
import { clientOf } from "../../src/contract/caller.ts";

export default defineRoute({
  summary: "Submit a job",
  tags: ["jobs"],
  body: Submission,
  responses: {
    202: { description: "accepted; durable before this reply", schema: JobSchema },
    200: { description: "with Prefer: wait, the job finished in time (or an Idempotency-Key replay of a finished job)", schema: JobSchema },
    400: { description: "invalid submission (a number beyond a 64-bit float included); the message names the field" },
    422: { description: "the request cannot be used by its endpoint (e.g. /request/messages missing for /api/chat, or a model name Ollama cannot parse: `invalid model name`; the message names the field), or an Idempotency-Key reused with another body" },
  },
  handle: async ({ body, request, services, requestId, peer }) => {
    const key = request.headers.get("idempotency-key");
    if (key !== null && (key.length === 0 || key.length > 255)) throw new HttpError(400, "Idempotency-Key must be 1 to 255 characters", "/headers/idempotency-key");
    const defaultWebhook = services.config.webhookUrl ? { url: services.config.webhookUrl, events: null } : null;
    const { job, replayed, position } = await services.submitter.submit(body, key, services.checkWebhookUrl, defaultWebhook, requestId, clientOf(request, peer(), services.trustedProxies));
    const headers: Record<string, string> = { location: `/jobs/${job.id}` };
    if (replayed) headers["idempotent-replayed"] = "true";
    const wait = preferWaitSeconds(request.headers.get("prefer"));
    let current = job;
    let known = position;
    if (wait !== null) {
      current = (await services.watch.untilTerminal(job.id, wait * 1000, request.signal)) ?? job;
      known = null;
      headers["preference-applied"] = `wait=${wait}`;
    }
    const timing = jobServerTiming(current);
    if (timing) headers["server-timing"] = timing;
    return json(jobView(current, services.estimates, known), replayed || isTerminal(current.status) ? 200 : 202, headers);
  },
});
