// The retry rule for async jobs, in one place: a failed attempt (target 5xx, a timeout, a
// dropped stream, a foreman crash mid-run) sends the job back to the queue after a back-off
// that doubles per failure, capped, until its failures reach the attempt bound. A sleeping
// target is not a failure and never reaches this rule (ADR 0013).
export interface RetryPolicy {
  maxAttempts: number;
  /** First back-off; doubles per failure. */
  baseMs: number;
}

const MAX_RETRY_DELAY_MS = 60_000;

export type RetryDecision = { giveUp: true } | { giveUp: false; delayMs: number };

/** What to do after a job's `failures`-th failed attempt. */
export function afterFailure(failures: number, policy: RetryPolicy): RetryDecision {
  if (failures >= policy.maxAttempts) return { giveUp: true };
  return { giveUp: false, delayMs: Math.min(policy.baseMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS) };
}
