// GET /jobs/{id}/deliveries: the job's webhook deliveries and the outcome of every attempt.
import { defineRoute, json } from "../../../src/http/route.ts";
import { findJob } from "../../../src/http/job-lookup.ts";

export default defineRoute({
  summary: "Webhook deliveries of a job, with every attempt",
  tags: ["jobs"],
  responses: { 200: { description: "deliveries" }, 404: { description: "no such job" } },
  handle: ({ params, services }) => {
    const job = findJob(services.queue, params.id);
    return json({ deliveries: services.dispatcher.deliveries(job.id) });
  },
});
