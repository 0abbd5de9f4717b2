// What foreman is doing right now: the target, the worker, and the queue by model and state.
import { Type } from "@sinclair/typebox";
import { defineRoute, json } from "../src/http/route.ts";
import { VERSION } from "../src/ops/version.ts";

const Count = Type.Record(Type.String(), Type.Integer());

const Status = Type.Object({
  version: Type.String(),
  uptimeSeconds: Type.Number(),
  target: Type.Object({
    url: Type.String(),
    up: Type.Union([Type.Boolean(), Type.Null()]),
    since: Type.String({ description: "when the target last went up or down" }),
    resident: Type.Array(Type.String(), { description: "models resident on the target, most recently used first" }),
  }),
  worker: Type.Object({
    state: Type.Union([Type.Literal("idle"), Type.Literal("running"), Type.Literal("paused")]),
    job: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    reason: Type.Optional(Type.String()),
  }),
  queue: Type.Object({
    byState: Count,
    byModel: Type.Record(Type.String(), Count),
    oldestQueuedAgeSeconds: Type.Union([Type.Number(), Type.Null()]),
  }),
  jobsRun: Type.Integer(),
  loads: Type.Integer(),
  swaps: Type.Integer({ description: "loads that replaced another resident model" }),
});

export default defineRoute({
  summary: "Target, worker and queue state",
  tags: ["ops"],
  responses: { 200: { description: "current state", schema: Status } },
  handle: ({ services: { poller, worker, queue, target, startedAt } }) => {
    const now = Date.now();
    const byState: Record<string, number> = { queued: 0, loading: 0, working: 0 };
    const byModel: Record<string, Record<string, number>> = {};
    let oldest: number | null = null;
    for (const row of queue.activeCounts()) {
      byState[row.status] = (byState[row.status] ?? 0) + row.n;
      (byModel[row.model] ??= {})[row.status] = row.n;
      if (row.status === "queued") oldest = Math.min(oldest ?? row.oldest, row.oldest);
    }
    const w = worker.state;
    return json({
      version: VERSION,
      uptimeSeconds: (now - startedAt) / 1000,
      target: { url: target.displayUrl, up: poller.up, since: new Date(poller.since).toISOString(), resident: poller.resident },
      worker: w.kind === "running" ? { state: "running", job: w.jobId, model: w.model } : w.kind === "paused" ? { state: "paused", reason: w.reason } : { state: "idle" },
      queue: { byState, byModel, oldestQueuedAgeSeconds: oldest === null ? null : (now - oldest) / 1000 },
      jobsRun: worker.stats.jobs,
      loads: worker.stats.loads,
      swaps: worker.stats.swaps,
    });
  },
});
