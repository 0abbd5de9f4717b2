// How `foreman batch submit --wait` shows a batch as it runs: one line redrawn in place on a
// terminal — lines done (completed and failed) of the total, a bar, the rate and the time
// left — or, for logs and pipes, a plain line at each status change and each quarter. Pure;
// the time is a parameter. The rate is measured over the polls seen so far.
import type { Batch } from "../../clients/ts/types.ts";
import { ellipsize, shortDuration } from "./human.ts";

/** Lines done at a moment. */
export interface BatchSample {
  at: number;
  done: number;
}

const MAX_SAMPLES = 30;

/** Lines ended so far, either way. */
export const linesDone = (b: Batch): number => b.request_counts.completed + b.request_counts.failed;

/** The samples with this poll's count added (the oldest dropped past MAX_SAMPLES). */
export const addSample = (samples: readonly BatchSample[], batch: Batch, now: number): BatchSample[] => [...samples, { at: now, done: linesDone(batch) }].slice(-MAX_SAMPLES);

/** Lines a second over the samples kept; 0 when it cannot be told yet. */
export function lineRate(samples: readonly BatchSample[]): number {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last || last.at <= first.at) return 0;
  return ((last.done - first.done) * 1000) / (last.at - first.at);
}

/** 0–100 of the lines ended, null before the batch knows its total. */
export function batchPercent(b: Batch): number | null {
  return b.request_counts.total > 0 ? Math.floor((linesDone(b) * 100) / b.request_counts.total) : null;
}

/**
 * `batch_01…  in_progress  42% ▕████      ▏ 21/50 done, 1 failed  3.2/s  ETA 9s`, kept one
 * column short of the terminal so it never wraps; the bar gives way first, then the rate and
 * time left (the bar comes back if it then fits), then the line is cut.
 */
export function renderBatchBar(b: Batch, samples: readonly BatchSample[], columns: number): string {
  const width = Math.max(1, columns - 1);
  const pct = batchPercent(b);
  const head = `${b.id}  ${b.status}`;
  if (pct === null) return ellipsize(head, width);
  const { total, failed } = b.request_counts;
  const done = linesDone(b);
  const counts = `${done}/${total} done${failed ? `, ${failed} failed` : ""}`;
  const rate = lineRate(samples);
  const timing = rate > 0 && done < total ? `  ${rate.toFixed(1)}/s  ETA ${shortDuration(((total - done) / rate) * 1000)}` : "";
  const pre = `${head} ${String(pct).padStart(3)}%`;
  const withBar = (suffix: string) => {
    const room = width - pre.length - 4 - suffix.length;
    if (room < 10) return null;
    const filled = Math.floor((room * pct) / 100);
    return `${pre} ▕${"█".repeat(filled)}${" ".repeat(room - filled)}▏ ${suffix}`;
  };
  const bare = `${pre} ${counts}${timing}`;
  return withBar(counts + timing) ?? (bare.length <= width ? bare : (withBar(counts) ?? ellipsize(bare, width)));
}

/** A line for a log when the status changed or a quarter passed between `prev` and `next`, else null. */
export function plainBatchLine(prev: Batch | undefined, next: Batch): string | null {
  const before = prev ? batchPercent(prev) : null;
  const after = batchPercent(next);
  const quarterPassed = after !== null && (before === null || Math.floor(after / 25) > Math.floor(before / 25));
  if (prev && prev.status === next.status && !quarterPassed) return null;
  const { total, failed } = next.request_counts;
  return `${next.id}: ${next.status}${after === null ? "" : ` ${linesDone(next)}/${total} done${failed ? `, ${failed} failed` : ""} (${after}%)`}`;
}
