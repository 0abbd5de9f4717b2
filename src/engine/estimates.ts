// The shell around the forecast (ADR 0038): reads the queued work and the finished jobs'
// timings, asks the worker how it will choose, runs the forecast and keeps it until the queue
// changes or a second passes — so a page of jobs costs one forecast, not one per job, and
// nothing here runs on the worker's path.
import type { JobRecord, Queue } from "../queue/queue.ts";
import { forecast, type JobForecast } from "./forecast.ts";
import { learnRates } from "./job-rates.ts";
import { ESTIMATE_LIMITS, type EstimateLimits, type Standing, type StandingSource } from "../contract/eta.ts";

/** The worker as the forecast sees it: how it will choose, and what it runs now. */
export interface WorkerOutlook {
  resident: string[];
  agingCapMs: number;
  leftAt: Record<string, number>;
  resume?: string;
  lastKey?: string;
  /** The job on the target: since when, and whether sending it made the target load its model. */
  running: { job: JobRecord; since: number; load: boolean } | null;
}

export { ESTIMATE_LIMITS, ETA_REASONS, type EstimateLimits, type EtaReason, type Standing } from "../contract/eta.ts";

const NOT_QUEUED: Standing = { position: null, eta: null, etaReason: null };

export class Estimates implements StandingSource {
  /** Bumped by every committed job event: a forecast made before it is stale. */
  private version = 0;
  private cached: { at: number; version: number; jobs: Map<string, JobForecast> } | null = null;

  constructor(
    private readonly queue: Queue,
    private readonly worker: { outlook(): WorkerOutlook },
    private readonly limits: EstimateLimits = ESTIMATE_LIMITS,
    private readonly clock: () => number = Date.now,
  ) {
    queue.onCommitted(() => this.version++);
  }

  /**
   * The job's standing; a job that is not queued has none. Past the horizon its position is
   * `known` (a new job's count of queued work) or counted by lane and arrival — at least the
   * horizon's.
   */
  of(job: JobRecord, known?: number): Standing {
    if (job.status !== "queued") return NOT_QUEUED;
    let jobs = this.forecast();
    // a job queued since the forecast was made, asked about before its event is out (POST /jobs' reply)
    if (!jobs.has(job.id) && this.cached!.at <= job.queuedAt) jobs = this.forecast(true);
    const f = jobs.get(job.id);
    if (!f) return { position: Math.max(jobs.size, known ?? this.queue.position(job) ?? 0), eta: null, etaReason: "beyond_horizon" };
    return { position: f.position, eta: f.startAt === null || f.finishAt === null ? null : { startAt: f.startAt, finishAt: f.finishAt }, etaReason: f.reason };
  }

  /** The forecast for the queue as it is: made again once the queue changed or it is older than the TTL, or when `fresh`. */
  forecast(fresh = false): Map<string, JobForecast> {
    const now = this.clock();
    const c = this.cached;
    if (!fresh && c && c.version === this.version && now - c.at < this.limits.ttlMs) return c.jobs;
    const version = this.version;
    const rates = learnRates(this.queue.finishedSamples(this.limits.history));
    const { running, ...outlook } = this.worker.outlook();
    const state = { ...outlook, now, freeAt: now as number | null, capacity: Math.max(1, outlook.resident.length) };
    if (running) {
      // once it has run, its model is the resident one and the last sent, as the worker will note
      const { job } = running;
      const expected = rates.duration(job.modelKey, job.endpoint, running.load);
      state.freeAt = expected === null ? null : now + Math.max(0, expected - (now - running.since));
      state.resident = [job.drainKey, ...state.resident.filter((k) => k !== job.drainKey)];
      state.lastKey = job.drainKey;
    }
    const jobs = forecast(this.queue.backlog(), state, (job, load) => rates.duration(job.modelKey, job.endpoint, load), this.limits.horizon);
    this.cached = { at: now, version, jobs };
    return jobs;
  }
}
