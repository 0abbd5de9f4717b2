// The usage ledger (ADR 0036): a rollup of what finished work cost, by model, endpoint, lane,
// client and tag, in hours, days and weeks. A job's cost is added inside the transaction that
// marks it done (an event hook, like the outbox), so it rides the worker's commit between jobs
// and never needs a commit of its own. GET /usage reads this table alone, each span in the
// coarsest buckets that fit it, so its answer costs the groups asked for and a few dozen buckets
// each, not the jobs behind them; and it outlives job retention (its own setting).
import type { Database } from "bun:sqlite";
import type { Usage } from "./usage-schema.ts";
import { USAGE_DIMENSIONS, type UsageDimension } from "../contract/usage.ts";
import { laneName } from "./view.ts";
import type { JobRecord, Queue } from "./queue.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** The bucket sizes of the rollup, coarsest first (weeks start on the epoch's weekday, Thursday 00:00 UTC). */
const BUCKETS = [WEEK_MS, DAY_MS, HOUR_MS] as const;

/** The hour a time falls in (its start, ms). */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The value a job has in each dimension; "" when it has none (no client known, no tag). */
export function dimensionsOf(job: Pick<JobRecord, "modelKey" | "endpoint" | "lane" | "client" | "tag">): Record<UsageDimension, string> {
  return { model: job.modelKey, endpoint: job.endpoint, lane: laneName(job.lane), client: job.client ?? "", tag: job.tag ?? "" };
}

/** One group's sums over the hours asked for: its value, exactness, jobs, and their usage summed. */
export type UsageRow = { value: string; jobs: number } & Usage;

/** A run of buckets of one size: those starting from `from` up to (not including) `to`. */
export interface Piece {
  span: number;
  from: number;
  to: number;
}

/**
 * Whole hours from `from` to `to` (both on the hour) as the fewest buckets: the whole weeks
 * inside, then the whole days on either side of them, then the hours left at either end. A year
 * is then about 52 + 12 + 46 buckets per group instead of 8,760; at most five pieces.
 */
export function pieces(from: number, to: number, sizes: readonly number[] = BUCKETS): Piece[] {
  const [span, ...finer] = sizes;
  if (span === undefined || from >= to) return [];
  if (finer.length === 0) return [{ span, from, to }];
  const first = Math.ceil(from / span) * span;
  const last = Math.floor(to / span) * span;
  if (first >= last) return pieces(from, to, finer);
  return [...pieces(from, first, finer), { span, from: first, to: last }, ...pieces(last, to, finer)];
}

/** The statement reads up to this many pieces (what `pieces` makes for three bucket sizes). */
const MAX_PIECES = 5;

type SumRow = Omit<UsageRow, "estimated"> & { estimated: number };
const COUNTS = ["jobs", "prompt_tokens", "output_tokens", "load_ms", "prompt_eval_ms", "generation_ms", "target_ms"] as const;
const SUMS = COUNTS.map((c) => `SUM(${c}) AS ${c}`).join(", ");

export class UsageLedger {
  private readonly s;

  constructor(db: Database) {
    // each piece is a range scan of the primary key (dimension, span, start); an unused one is empty
    const piece = (i: number) => `SELECT value, estimated, ${SUMS} FROM usage_rollup WHERE dimension = $by AND span = $span${i} AND start >= $from${i} AND start < $to${i} GROUP BY value, estimated`;
    const union = Array.from({ length: MAX_PIECES }, (_, i) => piece(i)).join(" UNION ALL ");
    this.s = {
      add: db.query<never, Record<string, string | number>>(`INSERT INTO usage_rollup (dimension, span, start, value, estimated, ${COUNTS.join(", ")})
         VALUES ($dimension, $span, $start, $value, $estimated, 1, $prompt_tokens, $output_tokens, $load_ms, $prompt_eval_ms, $generation_ms, $target_ms)
         ON CONFLICT (dimension, span, start, value, estimated) DO UPDATE SET ${COUNTS.map((c) => `${c} = ${c} + ${c === "jobs" ? "1" : `$${c}`}`).join(", ")}`),
      sums: db.query<SumRow, Record<string, string | number>>(`SELECT value, estimated, ${SUMS} FROM (${union}) GROUP BY value, estimated ORDER BY value, estimated`),
      prune: db.query<never, [string, number, number]>(`DELETE FROM usage_rollup WHERE dimension = ? AND span = ? AND start < ?`),
    };
  }

  /** Adds each job's usage to the rollup in the transaction that marks it done. */
  install(queue: Queue): void {
    queue.onEvent((job, event) => {
      if (event.type === "done" && job.usage) this.add(job, job.usage, event.at);
    });
  }

  /** Adds one finished job's cost to the week, the day and the hour it finished in, once per dimension. */
  add(job: JobRecord, usage: Usage, at: number): void {
    const values = dimensionsOf(job);
    const { estimated, ...counts } = usage;
    for (const dimension of USAGE_DIMENSIONS) {
      for (const span of BUCKETS) this.s.add.run({ dimension, span, start: Math.floor(at / span) * span, value: values[dimension], estimated: estimated ? 1 : 0, ...counts });
    }
  }

  /**
   * Sums by `by` over whole hours: from the start of the hour `since` falls in to the end of the
   * hour `until` falls in (`until` itself when it starts an hour), which it returns as `from` and `to`.
   */
  report(by: UsageDimension, since: number, until: number): { from: number; to: number; rows: UsageRow[] } {
    const from = hourOf(since);
    const to = until === hourOf(until) ? until : hourOf(until) + HOUR_MS;
    const params: Record<string, string | number> = { by };
    const parts = pieces(from, to);
    for (let i = 0; i < MAX_PIECES; i++) Object.assign(params, { [`span${i}`]: parts[i]?.span ?? 0, [`from${i}`]: parts[i]?.from ?? 0, [`to${i}`]: parts[i]?.to ?? 0 });
    return { from, to, rows: this.s.sums.all(params).map((r) => ({ ...r, estimated: r.estimated === 1 })) };
  }

  /** Drops the buckets that ended before `cutoff` (FOREMAN_USAGE_RETENTION_HOURS); returns how many rows went. */
  prune(cutoff: number): number {
    let removed = 0;
    for (const dimension of USAGE_DIMENSIONS) for (const span of BUCKETS) removed += this.s.prune.run(dimension, span, cutoff - span + 1).changes;
    return removed;
  }
}

const AGO_UNITS: Record<string, number> = { m: 60_000, h: HOUR_MS, d: DAY_MS, w: WEEK_MS };
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A point in time as GET /usage takes it: RFC 3339, or a span back from `now` (`90m`, `24h`, `7d`, `2w`); null when it is neither. */
export function pointInTime(text: string, now: number): number | null {
  const ago = /^(\d{1,6})([mhdw])$/.exec(text);
  if (ago) return now - Number(ago[1]) * AGO_UNITS[ago[2]!]!;
  if (!RFC3339.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}
