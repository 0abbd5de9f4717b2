// What every route handler gets: settings, the catalogue, the scheduler, the
// live counters and faults. One object instead of module-level state, so
// several simulators can run in one process (tests do).

import type { Catalogue } from "./catalogue.ts";
import type { Scheduler } from "./scheduler.ts";
import type { SimCounters, SimFaults, SimSettings } from "./types.ts";

export interface SimContext {
  settings: SimSettings;
  catalogue: Catalogue;
  scheduler: Scheduler;
  counters: SimCounters;
  faults(): SimFaults;
}

/** Per-request plumbing: `signal` aborts when the client goes (or the simulator sleeps/stops). */
export interface Call {
  signal: AbortSignal;
  cancel(): void;
  param: string;
}

export type Outcome = "completed" | "aborted" | "failed";

/** Counts one inference request in flight; the returned function ends it once. */
export function enterFlight(counters: SimCounters): (outcome: Outcome) => void {
  counters.concurrent++;
  counters.maxConcurrent = Math.max(counters.maxConcurrent, counters.concurrent);
  let left = false;
  return (outcome) => {
    if (left) return;
    left = true;
    counters.concurrent--;
    if (outcome === "completed") counters.completed++;
    if (outcome === "aborted") counters.aborted++;
  };
}
