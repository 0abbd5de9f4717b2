// The API description, generated from the route schemas.
import { defineRoute, json } from "../src/http/route.ts";
import { buildOpenApi } from "../src/http/openapi.ts";
import { Submission } from "../src/queue/submit.ts";
import { JobListQuery, JobListSchema, JobProgressSchema, JobSchema } from "../src/queue/view.ts";
import { StatusSchema } from "./status.get.ts";
import { UsageQuery, UsageReportSchema } from "./usage.get.ts";
import { UsageSchema } from "../src/queue/usage-schema.ts";
import { BatchSchema, FileSchema } from "../src/http/batch-schemas.ts";

/** The API's named schemas: components in the document, and the TypeScript client's type names (scripts/gen-client-types.ts). */
export const API_SCHEMAS = { Job: JobSchema, JobList: JobListSchema, JobProgress: JobProgressSchema, ListFilter: JobListQuery, Submission, Status: StatusSchema, Usage: UsageSchema, UsageReport: UsageReportSchema, UsageFilter: UsageQuery, Batch: BatchSchema, BatchFile: FileSchema } as const;

/** The document, built once per manifest: the routes never change while foreman runs. */
const built = new WeakMap<object, unknown>();

export default defineRoute({
  summary: "OpenAPI 3.1 document of this API",
  tags: ["ops"],
  handle: ({ routes }) => {
    if (!built.has(routes)) built.set(routes, buildOpenApi(routes, API_SCHEMAS));
    return json(built.get(routes));
  },
});
