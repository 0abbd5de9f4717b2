// The job state machine, in one table. Every state change goes through queue.transition(),
// which checks it against this table (River-style: the table is the documentation).
//
//   queued ──► loading ──► working ──► done
//     │  ▲        │  │        │  └───► failed | canceled
//     │  └────────┴──┼────────┘   (back to queued: target unreachable, retryable 5xx, restart)
//     └──► working   └──► done | failed | canceled
//     └──► failed | canceled
export const JOB_STATES = ["queued", "loading", "working", "done", "failed", "canceled"] as const;
export type JobStatus = (typeof JOB_STATES)[number];

export const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ["loading", "working", "failed", "canceled"],
  loading: ["working", "queued", "done", "failed", "canceled"],
  working: ["queued", "done", "failed", "canceled"],
  done: [],
  failed: [],
  canceled: [],
};

export function isTerminal(status: JobStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export class IllegalTransition extends Error {
  constructor(
    readonly from: JobStatus,
    readonly to: JobStatus,
  ) {
    super(`illegal job transition ${from} → ${to}`);
  }
}

export function checkTransition(from: JobStatus, to: JobStatus): void {
  if (!TRANSITIONS[from].includes(to)) throw new IllegalTransition(from, to);
}
