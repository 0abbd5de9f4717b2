// What foreman is doing right now: the target, the worker, and the queue by model and state.
import { Type } from "@sinclair/typebox";
import { resolve } from "node:path";
import { defineRoute, json } from "../src/http/route.ts";
import { VERSION } from "../src/ops/version.ts";
import { WORKER_STATES } from "../src/contract/worker-states.ts";

const Count = Type.Record(Type.String(), Type.Integer());

export const StatusSchema = Type.Object({
  version: Type.String(),
  database: Type.String({ description: "the SQLite database this foreman has open, as an absolute path" }),
  uptime_seconds: Type.Number(),
  target: Type.Object({
    url: Type.String(),
    up: Type.Union([Type.Boolean(), Type.Null()]),
    since: Type.String({ format: "date-time", description: "when the target last went up or down" }),
    reason: Type.String({ description: "what `up` is based on; while the target is down, why the latest liveness probe failed: connection refused, timed out, DNS, …" }),
    hint: Type.Optional(Type.String({ description: "while the target is down, what to try for that cause (a Mac's Ollama listens on 127.0.0.1 only unless OLLAMA_HOST says otherwise)" })),
    resident: Type.Array(Type.String(), { description: "models resident on the target, most recently used first" }),
  }),
  worker: Type.Object({
    state: Type.Union(
      WORKER_STATES.map((state) => Type.Literal(state)),
      { description: "loading or working: the state of the job it has on the target (`job`); paused: the target is down, or after an error of foreman's own" },
    ),
    job: Type.Optional(Type.String()),
    model: Type.Optional(Type.String()),
    since: Type.Optional(Type.String({ format: "date-time", description: "loading or working: when its job was sent to the target" })),
    reason: Type.Optional(Type.String()),
    until: Type.Optional(Type.String({ format: "date-time", description: "when a pause after a target error ends" })),
  }),
  queue: Type.Object({
    by_state: Count,
    by_model: Type.Record(Type.String(), Count),
    oldest_queued_age_seconds: Type.Union([Type.Number(), Type.Null()]),
    oldest_queued_age_seconds_by_model: Type.Record(Type.String(), Type.Number(), { description: "models with queued work: how long the oldest has waited" }),
  }),
  jobs_run: Type.Integer(),
  loads: Type.Integer(),
  swaps: Type.Integer({ description: "loads that replaced a resident runner: another model's, or the same model's with other load-time options (reloads)" }),
  reloads: Type.Integer({ description: "the swaps that reloaded the same model because a request changed its load-time options (num_ctx, …)" }),
  recent_swaps: Type.Array(
    Type.Object({
      at: Type.String({ format: "date-time" }),
      from: Type.String({ description: "drain key: the model, then the load-time options its requests set (`qwen3:8b num_ctx=8192`)" }),
      to: Type.String(),
      reload: Type.Boolean({ description: "the same model, reloaded with other load-time options" }),
    }),
    { description: "the last swaps, newest first" },
  ),
  wake: Type.Union(
    [
      Type.Object({
        mac: Type.String({ description: "FOREMAN_WAKE_MAC" }),
        addr: Type.String({ description: "FOREMAN_WAKE_ADDR: where the packets go" }),
        sent: Type.Integer({ description: "magic packets sent" }),
        last_sent_at: Type.Union([Type.String({ format: "date-time" }), Type.Null()]),
        last_error: Type.Union([Type.String(), Type.Null()], { description: "why the last packet could not be sent, if it could not" }),
      }),
      Type.Null(),
    ],
    { description: "Wake-on-LAN for a target that sleeps; null without FOREMAN_WAKE_MAC" },
  ),
  batches: Type.Object(
    {
      by_status: Type.Record(Type.String(), Type.Integer(), { description: "OpenAI batches by status, every status named (0 when none)" }),
      lines: Type.Record(Type.String(), Type.Integer(), { description: "lines of the batches not ended, by job state: queued, loading, working, done, failed, canceled" }),
      running: Type.Union(
        [
          Type.Object({
            id: Type.String(),
            status: Type.String(),
            model: Type.Union([Type.String(), Type.Null()], { description: "the model of its lines; null when they name several" }),
            total: Type.Integer(),
            completed: Type.Integer(),
            failed: Type.Integer({ description: "lines failed or canceled" }),
            unfinished: Type.Integer({ description: "lines queued or on the target" }),
          }),
          Type.Null(),
        ],
        { description: "the batch whose line the worker has on the target, and its progress; null when the work on the target is no batch's" },
      ),
    },
    { description: "OpenAI batches (/v1/batches)" },
  ),
  preemptions: Type.Integer({ description: "async jobs stopped for a waiting passthrough request, sent back to the queue" }),
  preempted_generation_seconds: Type.Number({ description: "generation the preemptions threw away: from each preempted job's first byte to its stop" }),
  last_preemption: Type.Union([
    Type.Object({
      at: Type.String({ format: "date-time" }),
      job: Type.String({ description: "the job that made way" }),
      model: Type.String(),
      by: Type.String({ description: "the passthrough request that preempted it (its record's id)" }),
      discarded_seconds: Type.Number({ description: "generation thrown away; 0 when the job was still loading" }),
      preemptions: Type.Integer({ description: "times this job has been preempted so far" }),
    }),
    Type.Null(),
  ]),
});

const withHint = (hint: string | undefined) => (hint === undefined ? {} : { hint });

export default defineRoute({
  summary: "Target, worker and queue state",
  tags: ["ops"],
  responses: { 200: { description: "current state", schema: StatusSchema } },
  handle: ({ services: { config, poller, worker, waker, queue, target, batches, startedAt } }) => {
    const now = Date.now();
    const byState: Record<string, number> = { queued: 0, loading: 0, working: 0 };
    const byModel: Record<string, Record<string, number>> = {};
    const oldestByModel: Record<string, number> = {};
    let oldest: number | null = null;
    for (const row of queue.activeCounts()) {
      byState[row.status] = (byState[row.status] ?? 0) + row.n;
      (byModel[row.model] ??= {})[row.status] = row.n;
      if (row.status !== "queued") continue;
      oldest = Math.min(oldest ?? row.oldest, row.oldest);
      oldestByModel[row.model] = (now - row.oldest) / 1000;
    }
    const w = worker.state;
    const iso = (ms: number) => new Date(ms).toISOString();
    const p = worker.lastPreemption;
    return json({
      version: VERSION,
      database: resolve(config.db),
      uptime_seconds: (now - startedAt) / 1000,
      target: { url: target.displayUrl, up: poller.up, since: new Date(poller.since).toISOString(), reason: poller.reason, ...withHint(poller.hint()), resident: poller.resident },
      worker:
        w.kind === "loading" || w.kind === "working"
          ? { state: w.kind, job: w.jobId, model: w.model, since: iso(w.since) }
          : w.kind === "paused"
            ? { state: "paused", reason: w.reason, ...(w.until ? { until: iso(w.until) } : {}) }
            : { state: "idle" },
      queue: { by_state: byState, by_model: byModel, oldest_queued_age_seconds: oldest === null ? null : (now - oldest) / 1000, oldest_queued_age_seconds_by_model: oldestByModel },
      jobs_run: worker.stats.jobs,
      loads: worker.stats.loads,
      swaps: worker.stats.swaps,
      reloads: worker.stats.reloads,
      recent_swaps: worker.recentSwaps.map((s) => ({ at: iso(s.at), from: s.from, to: s.to, reload: s.reload })),
      wake: waker && { mac: waker.mac, addr: waker.addr, sent: waker.sent, last_sent_at: waker.lastSentAt === null ? null : iso(waker.lastSentAt), last_error: waker.lastError },
      batches: batches.status(w.kind === "loading" || w.kind === "working" ? w.jobId : undefined),
      preemptions: worker.stats.preemptions,
      preempted_generation_seconds: worker.stats.discardedMs / 1000,
      last_preemption: p && { at: iso(p.at), job: p.jobId, model: p.model, by: p.by, discarded_seconds: p.discardedMs / 1000, preemptions: p.preemptions },
    });
  },
});
