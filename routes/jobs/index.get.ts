// GET /jobs: async jobs, newest first, filtered by status and model, with cursor pagination.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../../src/http/route.ts";
import { HttpError } from "../../src/contract/http-error.ts";
import { JOB_STATES } from "../../src/contract/states.ts";
import { JobSchema, jobView } from "../../src/queue/view.ts";

export const MAX_PAGE = 500;

const encodeCursor = (seq: number) => Buffer.from(`s${seq}`).toString("base64url");
function decodeCursor(cursor: string): number {
  const m = /^s(\d{1,15})$/.exec(Buffer.from(cursor, "base64url").toString());
  if (!m) throw new HttpError(400, "query cursor: not a cursor this server gave out", "/query/cursor");
  return Number(m[1]);
}

export default defineRoute({
  summary: "List jobs, newest first",
  tags: ["jobs"],
  query: Type.Object(
    {
      status: Type.Optional(Type.Union(JOB_STATES.map((s) => Type.Literal(s)))),
      model: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, description: `page size, default 50, at most ${MAX_PAGE}` })),
      cursor: Type.Optional(Type.String({ maxLength: 64, description: "next_cursor of the previous page" })),
    },
    { additionalProperties: false },
  ),
  responses: { 200: { description: "a page of jobs", schema: Type.Object({ jobs: Type.Array(JobSchema), next_cursor: Type.Union([Type.String(), Type.Null()]) }) } },
  handle: ({ query, services: { queue } }) => {
    const limit = query.limit ?? 50;
    const jobs = queue.list({ status: query.status, model: query.model, before: query.cursor ? decodeCursor(query.cursor) : undefined, limit: limit + 1 });
    const page = jobs.slice(0, limit);
    const next = jobs.length > limit ? encodeCursor(page.at(-1)!.seq) : null;
    return json({ jobs: page.map((j) => jobView(j, queue)), next_cursor: next });
  },
});
