// GET /jobs/{id}/events: Server-Sent Events — every state change (`id` = the stored event's id,
// so `Last-Event-ID` resumes after it) with the job as it was right after that change, and,
// while the job runs, the generated text as it streams (`job.progress`, not stored, no id); a
// subscriber that attaches mid-job first gets all the text so far in one (offset 0).
// The stream ends after the terminal event.
import { defineRoute } from "../../../src/http/route.ts";
import { findJob } from "../../../src/http/job-lookup.ts";
import { isTerminal } from "../../../src/contract/states.ts";
import { eventView, type JobProgress } from "../../../src/queue/view.ts";
import type { JobEvent, JobRecord } from "../../../src/queue/queue.ts";

const HEARTBEAT_MS = 15_000;
const encoder = new TextEncoder();

export default defineRoute({
  summary: "Live job events (Server-Sent Events), resumable with Last-Event-ID",
  tags: ["jobs"],
  responses: { 200: { description: "event stream", contentType: "text/event-stream" }, 404: { description: "no such job" } },
  handle: ({ params, request, services: { queue, watch, worker, estimates } }) => {
    const job = findJob(queue, params.id);
    const after = Number(request.headers.get("last-event-id") ?? "0");
    const cleanups: (() => void)[] = [];
    const stop = () => cleanups.splice(0).forEach((c) => c());
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        let lastId = Number.isSafeInteger(after) && after > 0 ? after : 0;
        let closed = false;
        const write = (text: string) => {
          if (!closed) controller.enqueue(encoder.encode(text));
        };
        const close = () => {
          if (closed) return;
          closed = true;
          stop();
          controller.close();
        };
        // `record` is the job as it was right after `event`; a queue position is counted only
        // for the job's latest state (one it had earlier has no position worth showing)
        const send = (record: JobRecord, event: JobEvent, latest: boolean) => {
          if (event.id <= lastId) return;
          lastId = event.id;
          write(`id: ${event.id}\nevent: job.${event.type}\ndata: ${JSON.stringify(eventView(record, event, latest ? estimates : undefined))}\n\n`);
          if (isTerminal(event.type)) close();
        };
        cleanups.push(watch.subscribe(job.id, (record, event) => send(record, event, true)));
        const progress = (update: JobProgress) => write(`event: job.progress\ndata: ${JSON.stringify(update)}\n\n`);
        cleanups.push(worker.onLive((jobId, update) => jobId === job.id && progress(update)));
        const heartbeat = setInterval(() => write(": keep-alive\n\n"), HEARTBEAT_MS);
        cleanups.push(() => clearInterval(heartbeat));
        // replay what is stored, each event with the job as it was then
        const history = queue.history(job.id, lastId);
        history.forEach(({ event, job: then }, i) => send(then, event, i === history.length - 1));
        // then the text the job has generated so far, before what it generates next
        const soFar = worker.liveSoFar(job.id);
        if (soFar) progress(soFar);
        // resumed after the job's last event: there is nothing more to come
        if (isTerminal((queue.get(job.id) ?? job).status)) close();
      },
      cancel: stop,
    });
    request.signal.addEventListener("abort", stop, { once: true });
    return new Response(body, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no" } });
  },
});
