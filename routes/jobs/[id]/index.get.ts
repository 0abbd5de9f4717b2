// GET /jobs/{id}: the job; `?wait=N` long-polls up to N seconds until it is finished.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../../../src/http/route.ts";
import { JobSchema, jobServerTiming, jobView } from "../../../src/queue/view.ts";
import { MAX_WAIT_SECONDS } from "../../../src/contract/prefer.ts";
import { findJob } from "../../../src/http/job-lookup.ts";

export default defineRoute({
  summary: "Get a job (optionally waiting for it to finish)",
  tags: ["jobs"],
  query: Type.Object({ wait: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_WAIT_SECONDS, description: "seconds to wait for a terminal state" })) }),
  responses: { 200: { description: "the job", schema: JobSchema }, 404: { description: "no such job" } },
  handle: async ({ params, query, services, request }) => {
    const job = findJob(services.queue, params.id);
    const current = query.wait ? ((await services.watch.untilTerminal(job.id, query.wait * 1000, request.signal)) ?? job) : job;
    const timing = jobServerTiming(current);
    return json(jobView(current, services.estimates), 200, timing ? { "server-timing": timing } : {});
  },
});
