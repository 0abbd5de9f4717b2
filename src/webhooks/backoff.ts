// When to try a failed webhook delivery again: a fixed schedule spanning about a day, each
// step jittered by ±20 % so receivers that come back are not hit by every retry at once.
export const RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000, 28_800_000, 28_800_000];

/** Delay before attempt `attempts + 1`, or null when the schedule is used up. */
export function nextDelay(attempts: number, schedule: readonly number[], random: () => number = Math.random): number | null {
  const base = schedule[attempts - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
