// Drain-by-model: which queued job runs next. A pure function of the queue's heads, the
// models resident on the target, and the clock — no I/O, so it is tested exhaustively.
export interface Candidate {
  id: string;
  seq: number;
  modelKey: string;
  priority: number;
  /** When the job entered the queue (ms). */
  queuedAt: number;
}

/** The per-model view of async work: the job to run next for it, and how long it has waited. */
export interface ModelHead {
  modelKey: string;
  /** Highest priority, then oldest. */
  best: Candidate;
  /** Enqueue time of the model's oldest queued job. */
  oldestQueuedAt: number;
}

export interface QueueHeads {
  /** Oldest waiting interactive (passthrough) request. */
  interactive: Candidate | null;
  models: readonly ModelHead[];
}

export interface SchedulingState {
  /** Models resident on the target, most recently used first. */
  resident: readonly string[];
  now: number;
  /** A model waiting this long is served even though the resident model still has work. */
  agingCapMs: number;
  /**
   * When foreman last switched away from each model. A model's wait counts from the later of
   * its oldest job and that moment, so two backlogged models alternate in slices of the
   * aging cap instead of swapping on every job.
   */
  leftAt?: Readonly<Record<string, number>>;
}

export function waitedMs(head: ModelHead, state: SchedulingState): number {
  return state.now - Math.max(head.oldestQueuedAt, state.leftAt?.[head.modelKey] ?? -Infinity);
}

const longestWaiting = (heads: readonly ModelHead[], state: SchedulingState): ModelHead | undefined =>
  [...heads].sort((a, b) => waitedMs(b, state) - waitedMs(a, state) || a.oldestQueuedAt - b.oldestQueuedAt || a.modelKey.localeCompare(b.modelKey))[0];

export function chooseNext(heads: QueueHeads, state: SchedulingState): Candidate | null {
  // 1. interactive work first, oldest first
  if (heads.interactive) return heads.interactive;
  if (heads.models.length === 0) return null;
  // 2. the resident model's best job, unless (4) another model has hit the aging cap
  const current = state.resident.map((m) => heads.models.find((h) => h.modelKey === m)).find((h) => h !== undefined);
  if (current) {
    const starved = longestWaiting(heads.models.filter((h) => h !== current && waitedMs(h, state) >= state.agingCapMs), state);
    return (starved ?? current).best;
  }
  // 3. otherwise the model whose oldest job has waited longest
  return [...heads.models].sort((a, b) => a.oldestQueuedAt - b.oldestQueuedAt || a.modelKey.localeCompare(b.modelKey))[0]!.best;
}
