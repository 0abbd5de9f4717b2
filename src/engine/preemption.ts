// Preemption: when an interactive request waiting in the queue may stop the async job running
// at the target (ADR 0020). A pure function of what runs, what waits and the clock; the worker
// asks it whenever one of them changes and sets a timer for the moment it names.

/** What the worker has on the target now. */
export interface RunningWork {
  interactive: boolean;
  state: "loading" | "working";
  /** The model and load-time options it runs with (ADR 0021). */
  drainKey: string;
  /** false when submitted with `"preemptible": false`. */
  preemptible: boolean;
  /** Times the job was preempted before. */
  preemptions: number;
}

/** The interactive request that has waited longest: the one that runs next. */
export interface WaitingRequest {
  drainKey: string;
  /** When it entered the queue (ms). */
  queuedAt: number;
}

export interface PreemptionPolicy {
  /** FOREMAN_PREEMPT_AFTER_MS: how long an interactive request waits before it preempts; 0 = never. */
  afterMs: number;
  /** FOREMAN_PREEMPT_MAX: preemptions per job, then it runs to completion. */
  maxPerJob: number;
}

export type PreemptionDecision = { kind: "never" } | { kind: "at"; at: number } | { kind: "now" };

const NEVER: PreemptionDecision = { kind: "never" };

export function preemption(running: RunningWork | null, waiting: WaitingRequest | null, policy: PreemptionPolicy, now: number): PreemptionDecision {
  // 1. preemption is off (FOREMAN_PREEMPT_AFTER_MS=0)
  if (policy.afterMs === 0) return NEVER;
  // 2. nothing runs, or no caller waits (the worker asks again when that changes)
  if (!running || !waiting) return NEVER;
  // 3. interactive work is never preempted: its caller is waiting too
  if (running.interactive) return NEVER;
  // 4. a job submitted with "preemptible": false never is
  if (!running.preemptible) return NEVER;
  // 5. a job preempted the maximum number of times runs to completion
  if (running.preemptions >= policy.maxPerJob) return NEVER;
  // 6. a load of what the waiting request needs (the same model and options) is left to end:
  //    the request runs on it; stopping it would only waste it. Once the job is working, 7 applies
  if (running.state === "loading" && running.drainKey === waiting.drainKey) return NEVER;
  // 7. otherwise the job makes way once the request has waited the threshold
  const at = waiting.queuedAt + policy.afterMs;
  return now >= at ? { kind: "now" } : { kind: "at", at };
}
