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
