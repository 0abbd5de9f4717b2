// What the scheduling rule predicts for a batch workload, worked out without running it: the
// groups' lines are handed to the queue's forecast (ADR 0038), which asks the scheduler's own
// `chooseNext` for every step on a simulated clock, so the prediction is the rule itself — the
// drain by model, background batch lines (ADR 0040), the aging cap counted from the last switch
// (ADR 0013) — with each line taking its measured time and a load where the model changes. Pure.
import { forecast, type BacklogJob, type BacklogReader } from "../src/engine/forecast.ts";
import { BATCH_PRIORITY } from "../src/queue/batches.ts";

export interface PlannedGroup {
  /** The model (the drain key: the lines carry no load-time options). */
  model: string;
  lines: number;
  /** When its lines were queued (ms on the plan's clock). */
  queuedAt: number;
  /** One line's time on the target with the model resident (ms). */
  lineMs: number;
}

export interface Plan {
  /** Model loads on a target that holds one model: the first, and one per switch. */
  loads: number;
  /** The order the lines run in, as runs of one model. */
  runs: { model: string; lines: number }[];
  /** When the last line ends (ms on the plan's clock). */
  endMs: number;
}

/** The order and loads the scheduler gives `groups` of batch lines on a one-model target, alone in the queue from time 0. */
export function planBatches(groups: readonly PlannedGroup[], loadMs: number, agingCapMs: number): Plan {
  const jobs = new Map<string, BacklogJob[]>();
  let seq = 0;
  for (const g of groups) {
    const list = jobs.get(g.model) ?? [];
    for (let i = 0; i < g.lines; i++) list.push({ id: `${g.model}#${seq}`, seq: seq++, drainKey: g.model, priority: BATCH_PRIORITY, queuedAt: g.queuedAt, lane: 1, endpoint: "", modelKey: g.model });
    jobs.set(g.model, list);
  }
  const lineMs = new Map(groups.map((g) => [g.model, g.lineMs]));
  // one priority for all: the best order is the age order
  const reader: BacklogReader = {
    drainKeys: () => [...jobs.keys()],
    best: (key, offset, limit) => jobs.get(key)!.slice(offset, offset + limit),
    byAge: (key, offset, limit) => jobs.get(key)!.slice(offset, offset + limit),
    interactive: () => [],
    later: () => [],
  };
  const order = forecast(reader, { resident: [], agingCapMs, leftAt: {}, now: 0, freeAt: 0, capacity: 1 }, (job, load) => lineMs.get(job.drainKey)! + (load ? loadMs : 0), seq);
  const runs: Plan["runs"] = [];
  let endMs = 0;
  for (const [id, f] of order) {
    const model = id.slice(0, id.lastIndexOf("#"));
    const last = runs.at(-1);
    if (last?.model === model) last.lines++;
    else runs.push({ model, lines: 1 });
    endMs = Math.max(endMs, f.finishAt ?? NaN);
  }
  return { loads: runs.length, runs, endMs };
}
