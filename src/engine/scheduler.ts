// Drain-by-model: which queued job runs next. A pure function of the queue's heads, what is
// resident on the target, and the clock — no I/O, so it is tested exhaustively. Work is grouped
// by its drain key (ADR 0021): the model plus the load-time options that would make Ollama
// reload it (`src/ollama/load-options.ts`); "a model" below is such a group. The queue produces the heads
// (`queue/heads.ts`); the engine reads them. Batch lines (priority BATCH_PRIORITY or below) are
// background work across groups too (ADR 0040): a group whose best job is one yields to another
// group's plain job, so a plain job waits behind a batch for one line at most — the aging cap
// still guarantees the batch its turn.
import type { Candidate, ModelHead, QueueHeads } from "../queue/heads.ts";
import { BATCH_PRIORITY } from "../queue/batches.ts";

export interface SchedulingState {
  /** Drain keys of the runners resident on the target, most recently used first. */
  resident: readonly string[];
  now: number;
  /** A group waiting this long is served even though the resident group still has work. */
  agingCapMs: number;
  /**
   * When foreman last switched away from each group. A group's wait counts from the later of
   * its oldest job and that moment, so two backlogged models alternate in slices of the
   * aging cap instead of swapping on every job.
   */
  leftAt?: Readonly<Record<string, number>>;
  /**
   * The drain that an interactive request interrupted (a preempted job's group, ADR 0020): it
   * goes on as though it were still resident.
   */
  resume?: string;
}

export function waitedMs(head: ModelHead, state: SchedulingState): number {
  return state.now - Math.max(head.oldestQueuedAt, state.leftAt?.[head.drainKey] ?? -Infinity);
}

/** A group with only batch-grade work: its best job is at the batch priority or below (ADR 0040). */
export const background = (head: ModelHead): boolean => head.best.priority <= BATCH_PRIORITY;

const oldestFirst = (heads: readonly ModelHead[]): ModelHead | undefined =>
  [...heads].sort((a, b) => a.oldestQueuedAt - b.oldestQueuedAt || a.drainKey.localeCompare(b.drainKey))[0];

const longestWaiting = (heads: readonly ModelHead[], state: SchedulingState): ModelHead | undefined =>
  [...heads].sort((a, b) => waitedMs(b, state) - waitedMs(a, state) || a.oldestQueuedAt - b.oldestQueuedAt || a.drainKey.localeCompare(b.drainKey))[0];

export function chooseNext(heads: QueueHeads, state: SchedulingState): Candidate | null {
  // 1. interactive work first, oldest first
  if (heads.interactive) return heads.interactive;
  if (heads.models.length === 0) return null;
  // 2. the resident group's best job — the interrupted drain's, after a preemption — unless (4)
  //    another group has hit the aging cap
  const draining = state.resume === undefined ? state.resident : [state.resume, ...state.resident];
  const current = draining.map((k) => heads.models.find((h) => h.drainKey === k)).find((h) => h !== undefined);
  if (current) {
    const others = heads.models.filter((h) => h !== current);
    const starved = longestWaiting(others.filter((h) => waitedMs(h, state) >= state.agingCapMs), state);
    // 2a. a group draining only batch lines yields to another group's plain job (ADR 0040)
    const plain = background(current) ? oldestFirst(others.filter((h) => !background(h))) : undefined;
    return (starved ?? plain ?? current).best;
  }
  // 3. otherwise the group whose oldest job has waited longest — of the groups with plain work,
  //    unless a batch-only group has waited the aging cap (ADR 0040)
  const eligible = heads.models.filter((h) => !background(h) || waitedMs(h, state) >= state.agingCapMs);
  return oldestFirst(eligible.length > 0 ? eligible : heads.models)!.best;
}
