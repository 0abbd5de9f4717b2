// What the dispatcher counts, declared here so webhooks need no more than the metric
// primitives of ops/: the edge's telemetry (src/http/telemetry.ts) provides these meters.
import type { Counter, Histogram } from "../ops/metrics.ts";

/** Outcomes of a webhook attempt; their series exist from the start, so a first failure is a rate, not a new series. */
export const WEBHOOK_OUTCOMES = ["delivered", "rejected", "unreachable", "refused"] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

export interface WebhookMeter {
  webhookDeliveries: Counter;
  /** Deliveries given up: retries exhausted, 410 Gone, or refused by the URL policy. */
  webhookFailed: Counter;
  webhookLag: Histogram;
  /** Writes to the database that failed (counted where they are caught). */
  databaseErrors: Counter;
}
