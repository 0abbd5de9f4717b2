// When will queued work start and finish: the scheduler run forward over the queued jobs, on
// a simulated clock. It asks `chooseNext` itself for every step — there is no second policy to
// drift from the real one — and moves the scheduling state on as the worker does when it sends
// a job (ADR 0038). Pure but for reading the backlog: it reads a page at a time, no further
// than `horizon` steps take it, whatever the queue holds.
import { chooseNext, type SchedulingState } from "./scheduler.ts";
import type { Candidate, ModelHead } from "../queue/heads.ts";
import type { AgeEntry, BacklogJob, BacklogReader } from "../queue/heads.ts";

export type { AgeEntry, BacklogJob, BacklogReader } from "../queue/heads.ts";

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

const PAGE = 64;
/** Jobs falling due during the simulation it reads, per step of the horizon (many may fall due at once: a scheduled batch). */
const RELEASED_MAX = 20;

/** One order of a group's rows, read a page at a time as the simulation takes from it. */
class Stream<T extends { id: string }> {
  private rows: T[] = [];
  private at = 0;
  private offset = 0;
  private done = false;

  constructor(private readonly read: (offset: number, limit: number) => T[]) {}

  /** The first row not taken yet. */
  head(taken: ReadonlySet<string>): T | undefined {
    for (;;) {
      while (this.at < this.rows.length && taken.has(this.rows[this.at]!.id)) this.at++;
      if (this.at < this.rows.length) return this.rows[this.at];
      if (this.done) return undefined;
      this.rows = this.read(this.offset, PAGE);
      this.offset += this.rows.length;
      this.at = 0;
      this.done = this.rows.length < PAGE;
    }
  }
}

/**
 * A group's remaining work: its rows in the queue, and the jobs released into it during the
 * simulation in the same two orders (taken ones are dropped as they reach the front).
 */
interface Pool {
  drainKey: string;
  best: Stream<BacklogJob>;
  byAge: Stream<AgeEntry>;
  releasedBest: BacklogJob[];
  releasedAge: BacklogJob[];
}

/** The scheduler's order within a group: highest priority, then oldest. */
const before = (a: BacklogJob, b: BacklogJob) => a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
const earlier = (a: BacklogJob, b: BacklogJob) => a.seq < b.seq;

/** Inserts `job` into `list`, sorted by `first`, by binary search. */
function insertSorted(list: BacklogJob[], job: BacklogJob, first: (a: BacklogJob, b: BacklogJob) => boolean): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (first(list[mid]!, job)) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, job);
}

function frontLeft(list: BacklogJob[], taken: ReadonlySet<string>): BacklogJob | undefined {
  while (list.length > 0 && taken.has(list[0]!.id)) list.shift();
  return list[0];
}

function headOf(pool: Pool, taken: ReadonlySet<string>): ModelHead | undefined {
  const queued = pool.best.head(taken);
  const released = frontLeft(pool.releasedBest, taken);
  const best = queued && released ? (before(released, queued) ? released : queued) : (queued ?? released);
  if (!best) return undefined;
  const aged = pool.byAge.head(taken);
  const releasedOldest = frontLeft(pool.releasedAge, taken);
  const oldest = aged && releasedOldest ? (releasedOldest.seq < aged.seq ? releasedOldest : aged) : (aged ?? releasedOldest)!;
  return { drainKey: pool.drainKey, best, oldestQueuedAt: oldest.queuedAt };
}

/**
 * The order the scheduler will take the backlog in — at most `horizon` jobs — with each one's
 * expected start and finish. Work arriving later (a new passthrough request, a preemption) is
 * not foreseen.
 */
export function forecast(reader: BacklogReader, state: ForecastState, durationOf: DurationOf, horizon: number): Map<string, JobForecast> {
  const out = new Map<string, JobForecast>();
  const taken = new Set<string>();
  const pools = new Map<string, Pool>();
  const poolOf = (drainKey: string): Pool => {
    let pool = pools.get(drainKey);
    if (!pool) {
      pool = { drainKey, best: new Stream((o, l) => reader.best(drainKey, o, l)), byAge: new Stream((o, l) => reader.byAge(drainKey, o, l)), releasedBest: [], releasedAge: [] };
      pools.set(drainKey, pool);
    }
    return pool;
  };
  for (const k of reader.drainKeys()) poolOf(k);
  const interactive = reader.interactive(horizon);
  const later = new Stream((o, l) => reader.later(o, l));
  const released = new Set<string>();
  const leftAt: Record<string, number> = { ...state.leftAt };
  let resident = state.resident.slice(0, state.capacity);
  let resume = state.resume;
  let lastKey = state.lastKey;
  // the simulated clock, and whether it is still known (a duration on the way may not be)
  let clock = state.freeAt ?? state.now;
  let known: UnknownReason | null = state.freeAt === null ? "behind_unknown" : null;
  while (out.size < horizon) {
    // the worker releases what is due before it chooses (Queue.releaseDue)
    for (let job = later.head(released); job && job.notBefore <= clock && released.size <= RELEASED_MAX * horizon; job = later.head(released)) {
      released.add(job.id);
      const pool = poolOf(job.drainKey);
      insertSorted(pool.releasedBest, job, before);
      insertSorted(pool.releasedAge, job, earlier);
    }
    // so many due at once (a scheduled batch): past what the forecast reads
    if (released.size > RELEASED_MAX * horizon) break;
    const heads: ModelHead[] = [];
    for (const pool of pools.values()) {
      const head = headOf(pool, taken);
      if (head) heads.push(head);
    }
    const choice = chooseNext({ interactive: interactive[0] ?? null, models: heads }, { resident, now: clock, agingCapMs: state.agingCapMs, leftAt, resume });
    if (!choice) {
      // nothing can run before the next release: the worker idles until then
      const next = later.head(released);
      if (!next || known !== null) break;
      clock = next.notBefore;
      continue;
    }
    const job = choice as BacklogJob;
    if (job.lane === 0) interactive.shift();
    taken.add(job.id);
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
