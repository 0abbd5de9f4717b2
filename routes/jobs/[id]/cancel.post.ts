// POST /jobs/{id}/cancel: a queued job is canceled at once; a running one has its target
// request aborted and then ends canceled; a finished one cannot be canceled (409). A passthrough
// request's caller is answered either way: 499 before the reply began, a broken stream after.
import { defineRoute, json } from "../../../src/http/route.ts";
import { HttpError } from "../../../src/contract/http-error.ts";
import { JobSchema, jobView } from "../../../src/queue/view.ts";
import { isTerminal } from "../../../src/contract/states.ts";
import { findJob } from "../../../src/http/job-lookup.ts";

const RUNNING_CANCEL_WAIT_MS = 10_000;

export default defineRoute({
  summary: "Cancel a job",
  tags: ["jobs"],
  responses: { 200: { description: "the canceled job", schema: JobSchema }, 404: { description: "no such job" }, 409: { description: "the job already finished" } },
  handle: async ({ params, services: { queue, worker, watch, estimates } }) => {
    const job = findJob(queue, params.id);
    if (isTerminal(job.status)) throw new HttpError(409, `job ${job.id} already ended ${job.status}; nothing to cancel`);
    // a passthrough caller waiting on it is answered 499 (ADR 0043)
    if (job.status === "queued") return json(jobView(worker.cancelQueued(job.id, "canceled by request")));
    worker.cancelRunning(job.id, "canceled by request");
    const after = (await watch.untilTerminal(job.id, RUNNING_CANCEL_WAIT_MS)) ?? job;
    return json(jobView(after, estimates), isTerminal(after.status) ? 200 : 202);
  },
});
