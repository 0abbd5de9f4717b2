// The words of a queued job's estimate (ADR 0038): why it may have none, where a job stands, and
// the bounds of the forecast, which the job view documents. The engine computes standings; the
// queue's view shows them through `StandingSource`.

/** Why a queued job has no estimate. */
export const ETA_REASONS = ["no_history", "behind_unknown", "beyond_horizon"] as const;
export type EtaReason = (typeof ETA_REASONS)[number];

/** Where a job stands in the queue: its position in the scheduler's order, and when it should start and finish (ms). */
export interface Standing {
  position: number | null;
  eta: { startAt: number; finishAt: number } | null;
  etaReason: EtaReason | null;
}

export interface EstimateLimits {
  /** Jobs estimated, in the scheduler's order; those behind have a position counted by lane and arrival. */
  horizon: number;
  /** How long a forecast is kept while the queue does not change. */
  ttlMs: number;
  /** Finished jobs the rates are learnt from, the latest first. */
  history: number;
}

export const ESTIMATE_LIMITS: EstimateLimits = { horizon: 1000, ttlMs: 1000, history: 1000 };

/** What the job view asks of the estimates: a queued job's standing (`known`: a position already counted). */
export interface StandingSource {
  of(job: { id: string }, known?: number): Standing;
}
