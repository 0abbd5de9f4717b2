// Finding a job by the id in a URL: anything that is not a job id is simply not found.
import { HttpError } from "../contract/http-error.ts";
import { ID_PATTERN } from "../store/ids.ts";
import type { JobRecord, Queue } from "../queue/queue.ts";

export function findJob(queue: Queue, id: string | undefined): JobRecord {
  const job = id && ID_PATTERN.test(id) ? queue.get(id) : null;
  if (!job) throw new HttpError(404, `job ${JSON.stringify(id ?? "").slice(0, 64)} not found`);
  return job;
}
