// When will queued work start and finish: the scheduler run forward over the queued jobs, on
// a simulated clock. It asks `chooseNext` itself for every step — there is no second policy to
// drift from the real one — and moves the scheduling state on as the worker does when it sends
// a job (ADR 0038). Pure: the backlog, the state and a duration per job in, a forecast per job
// out; bounded by `horizon` steps, whatever the queue holds.
import { chooseNext, type Candidate, type ModelHead, type SchedulingState } from "./scheduler.ts";

/** A queued job as the forecast sees it: what the scheduler reads, and what its duration depends on. */
export interface BacklogJob extends Candidate {
  /** 0: a waiting passthrough request; 1: an async job. */
  lane: 0 | 1;
  endpoint: string;
  modelKey: string;
}

/** One drain key's async work, as far as the forecast reads it. */
export interface BacklogGroup {
  drainKey: string;
  /** The group's jobs in the scheduler's order within it: highest priority, then oldest; the first `horizon` of them. */
  best: readonly BacklogJob[];
  /**
   * The group's jobs oldest first, one more than `best` holds (the first `horizon + 1`): after
   * k ≤ horizon of them ran, the oldest left is among the first k + 1.
   */
  byAge: readonly { id: string; queuedAt: number }[];
}

/** Work waiting to run: what may run now, and what may not run before its `notBefore` (back-off, a scheduled start). */
export interface Backlog {
  /** Waiting passthrough requests, oldest first (the first `horizon`). */
  interactive: readonly BacklogJob[];
  groups: readonly BacklogGroup[];
  /** Async jobs not to run before a time, soonest first (the first `horizon`). */
  later: readonly (BacklogJob & { notBefore: number })[];
  /** When the first job past `later` may run (null: `later` holds them all): the forecast stops there, not knowing it. */
  laterUnreadAt: number | null;
}

export type UnknownReason = "no_history" | "behind_unknown";

export interface JobForecast {
  /** Jobs the scheduler takes before this one. */
  position: number;
  /** Null when a duration on the way is unknown (`reason` says why). */
  startAt: number | null;
  finishAt: number | null;
  reason: UnknownReason | null;
}

export interface ForecastState extends Omit<SchedulingState, "now"> {
  now: number;
  /** When the running work is expected to end: `now` when idle, null when that is unknown. */
  freeAt: number | null;
  /** The drain key last sent to the target (the worker's lastKey). */
  lastKey?: string;
  /** How many runners the target keeps at once: the most recent drain keys stay resident, another needs a load. */
  capacity: number;
}

/** A job's expected duration on the target, with or without a model load; null without history. */
export type DurationOf = (job: BacklogJob, load: boolean) => number | null;

/** A group's remaining work during the simulation: a cursor over each of its orders. */
interface Pool {
  drainKey: string;
  best: BacklogJob[];
  byAge: { id: string; queuedAt: number }[];
  taken: Set<string>;
}

const firstLeft = <T extends { id: string }>(list: readonly T[], taken: ReadonlySet<string>): T | undefined => list.find((j) => !taken.has(j.id));

/** A job whose back-off or scheduled start has come joins its group in both orders. */
function release(pools: Map<string, Pool>, job: BacklogJob): void {
  let pool = pools.get(job.drainKey);
  if (!pool) pools.set(job.drainKey, (pool = { drainKey: job.drainKey, best: [], byAge: [], taken: new Set() }));
  const bestAt = pool.best.findIndex((j) => j.priority < job.priority || (j.priority === job.priority && j.seq > job.seq));
  pool.best.splice(bestAt === -1 ? pool.best.length : bestAt, 0, job);
  const ageAt = pool.byAge.findIndex((j) => j.queuedAt > job.queuedAt);
  pool.byAge.splice(ageAt === -1 ? pool.byAge.length : ageAt, 0, { id: job.id, queuedAt: job.queuedAt });
}

/**
 * The order the scheduler will take the backlog in — at most `horizon` jobs — with each one's
 * expected start and finish. Work arriving later (a new passthrough request, a preemption) is
 * not foreseen.
 */
export function forecast(backlog: Backlog, state: ForecastState, durationOf: DurationOf, horizon: number): Map<string, JobForecast> {
  const out = new Map<string, JobForecast>();
  const pools = new Map<string, Pool>();
  for (const g of backlog.groups) pools.set(g.drainKey, { drainKey: g.drainKey, best: [...g.best], byAge: [...g.byAge], taken: new Set() });
  const interactive = [...backlog.interactive];
  const later = [...backlog.later];
  const leftAt: Record<string, number> = { ...state.leftAt };
  let resident = state.resident.slice(0, state.capacity);
  let resume = state.resume;
  let lastKey = state.lastKey;
  // the simulated clock, and whether it is still known (a duration on the way may not be)
  let clock = state.freeAt ?? state.now;
  let known: UnknownReason | null = state.freeAt === null ? "behind_unknown" : null;
  while (out.size < horizon) {
    // the worker releases what is due before it chooses (Queue.releaseDue)
    while (later.length > 0 && later[0]!.notBefore <= clock) release(pools, later.shift()!);
    if (backlog.laterUnreadAt !== null && backlog.laterUnreadAt <= clock) break;
    const heads: ModelHead[] = [];
    for (const pool of pools.values()) {
      const best = firstLeft(pool.best, pool.taken);
      if (best) heads.push({ drainKey: pool.drainKey, best, oldestQueuedAt: firstLeft(pool.byAge, pool.taken)!.queuedAt });
    }
    const choice = chooseNext({ interactive: interactive[0] ?? null, models: heads }, { resident, now: clock, agingCapMs: state.agingCapMs, leftAt, resume });
    if (!choice) {
      // nothing can run before the next release: the worker idles until then
      if (later.length === 0 || known !== null) break;
      clock = later[0]!.notBefore;
      continue;
    }
    const job = choice as BacklogJob;
    if (job.lane === 0) interactive.shift();
    else pools.get(job.drainKey)!.taken.add(job.id);
    // what the worker notes as it sends the job (Worker.begin, the poller's most-recent-first list)
    const load = !resident.includes(job.drainKey);
    if (lastKey !== undefined && lastKey !== job.drainKey) leftAt[lastKey] = clock;
    if (job.lane !== 0) resume = undefined;
    lastKey = job.drainKey;
    resident = [job.drainKey, ...resident.filter((k) => k !== job.drainKey)].slice(0, state.capacity);
    const duration = durationOf(job, load);
    if (duration !== null && known === null) {
      out.set(job.id, { position: out.size, startAt: clock, finishAt: clock + duration, reason: null });
      clock += duration;
    } else {
      // its own model's missing history says more than the work ahead's
      out.set(job.id, { position: out.size, startAt: null, finishAt: null, reason: duration === null ? "no_history" : known });
      // the jobs behind one without an estimate cannot be timed either
      known = "behind_unknown";
    }
  }
  return out;
}
