// What the queue offers the scheduler: per drain key (ADR 0021), the job to run next and how
// long the group has waited, and the oldest waiting interactive request. The queue produces
// these heads from its indexes; the engine's scheduler reads them and chooses.
export interface Candidate {
  id: string;
  seq: number;
  /** The model and the load-time options the job asks for (`drainKey`). */
  drainKey: string;
  priority: number;
  /** When the job entered the queue (ms). */
  queuedAt: number;
}

/** The per-group view of async work: the job to run next for it, and how long it has waited. */
export interface ModelHead {
  drainKey: string;
  /** Highest priority, then oldest. */
  best: Candidate;
  /** Enqueue time of the group's oldest queued job. */
  oldestQueuedAt: number;
}

export interface QueueHeads {
  /** Oldest waiting interactive (passthrough) request. */
  interactive: Candidate | null;
  models: readonly ModelHead[];
}

// What the forecast of queued work reads (ADR 0038): the backlog a page at a time, and the
// finished jobs' measurements its durations are learnt from.

/** A queued job as the forecast sees it: what the scheduler reads, and what its duration depends on. */
export interface BacklogJob extends Candidate {
  /** 0: a waiting passthrough request; 1: an async job. */
  lane: 0 | 1;
  endpoint: string;
  modelKey: string;
}

/** A queued job's place in its group's queue order (the `oldest` the scheduler reads). */
export interface AgeEntry {
  id: string;
  seq: number;
  queuedAt: number;
}

/**
 * Where the forecast reads the queued work, a page at a time: it reads no further into a
 * group than the steps it simulates take it (the queue answers with index seeks).
 */
export interface BacklogReader {
  /** Drain keys with async work that may run now. */
  drainKeys(): string[];
  /** A group's jobs that may run now, highest priority then oldest, from `offset`. */
  best(drainKey: string, offset: number, limit: number): BacklogJob[];
  /** The same jobs in queue order, from `offset`. */
  byAge(drainKey: string, offset: number, limit: number): AgeEntry[];
  /** Waiting passthrough requests, oldest first. */
  interactive(limit: number): BacklogJob[];
  /** Async jobs not to run before a time (back-off, a scheduled start), soonest first, from `offset`. */
  later(offset: number, limit: number): (BacklogJob & { notBefore: number })[];
}

/** What one finished job measured (its stored timings and token count). */
export interface FinishedSample {
  modelKey: string;
  endpoint: string;
  /** Set when the job had to load its model (then it equals the first byte). */
  loadMs: number | undefined;
  ttftMs: number;
  totalMs: number;
  tokens: number;
}

