// GET /jobs/{id}/artifact: the stored result with its content type; 404 until the job is done.
import { defineRoute } from "../../../src/http/route.ts";
import { HttpError } from "../../../src/contract/http-error.ts";
import { findJob } from "../../../src/http/job-lookup.ts";

export default defineRoute({
  summary: "The job's result, in the target's non-streamed response shape",
  tags: ["jobs"],
  responses: { 200: { description: "the artifact" }, 404: { description: "no such job, or not done yet" } },
  handle: ({ params, services: { queue } }) => {
    const job = findJob(queue, params.id);
    const artifact = job.status === "done" ? queue.artifact(job.id) : null;
    if (!artifact) throw new HttpError(404, `job ${job.id} has no artifact: it is ${job.status}`);
    return new Response(artifact.body, { headers: { "content-type": artifact.contentType } });
  },
});
