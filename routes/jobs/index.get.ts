// GET /jobs: async jobs (or, with lane=interactive, passthrough requests), newest first,
// filtered by status, model and batch, with cursor pagination.
import { defineRoute, json } from "../../src/http/route.ts";
import { HttpError } from "../../src/contract/http-error.ts";
import { JobListQuery, JobListSchema, jobView, laneOf } from "../../src/queue/view.ts";
import { INVALID_MODEL_NAME, validModelName } from "../../src/ollama/model-name.ts";

const encodeCursor = (seq: number) => Buffer.from(`s${seq}`).toString("base64url");
function decodeCursor(cursor: string): number {
  const m = /^s(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!m) throw new HttpError(400, "query cursor: not a cursor this server gave out", "/query/cursor");
  return Number(m[1]);
}

export default defineRoute({
  summary: "List jobs (or waiting and past passthrough requests, lane=interactive), newest first",
  tags: ["jobs"],
  query: JobListQuery,
  responses: { 200: { description: "a page of jobs", schema: JobListSchema }, 404: { description: "`batch` names no batch" } },
  handle: ({ query, services: { queue, estimates, batches } }) => {
    if (query.model !== undefined && !validModelName(query.model)) throw new HttpError(400, `query model: ${INVALID_MODEL_NAME}`, "/query/model");
    if (query.batch !== undefined && batches.get(query.batch) === null) throw new HttpError(404, `query batch: no batch ${query.batch}`, "/query/batch");
    const limit = query.limit ?? 50;
    const jobs = queue.list({ lane: laneOf(query.lane), status: query.status, model: query.model, batch: query.batch, before: query.cursor ? decodeCursor(query.cursor) : undefined, limit: limit + 1 });
    const page = jobs.slice(0, limit);
    const next = jobs.length > limit ? encodeCursor(page.at(-1)!.seq) : null;
    return json({ jobs: page.map((j) => jobView(j, estimates)), next_cursor: next });
  },
});
