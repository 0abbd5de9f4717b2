// The usage ledger (ADR 0036): an hourly (and daily) rollup of what finished work cost, by model,
// endpoint, lane, client and tag. A job's cost is added inside the transaction that marks it done (an
// event hook, like the outbox), so it rides the worker's commit between jobs and never needs a
// commit of its own. GET /usage reads this table alone, so its answer costs the hours and
// groups asked for, not the jobs behind them, and it outlives job retention (its own setting).
import type { Database } from "bun:sqlite";
import type { Usage } from "../engine/usage.ts";
import { USAGE_DIMENSIONS, type UsageDimension } from "../contract/usage.ts";
import { laneName } from "./view.ts";
import type { JobRecord, Queue } from "./queue.ts";


const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The hour a time falls in (its start, ms). */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The value a job has in each dimension; "" when it has none (no client known, no tag). */
export function dimensionsOf(job: Pick<JobRecord, "modelKey" | "endpoint" | "lane" | "client" | "tag">): Record<UsageDimension, string> {
  return { model: job.modelKey, endpoint: job.endpoint, lane: laneName(job.lane), client: job.client ?? "", tag: job.tag ?? "" };
}

/** One group's sums over the hours asked for. */
export interface UsageRow {
  value: string;
  estimated: boolean;
  jobs: number;
  prompt_tokens: number;
  output_tokens: number;
  load_ms: number;
  prompt_eval_ms: number;
  generation_ms: number;
  target_ms: number;
}

type SumRow = Omit<UsageRow, "estimated"> & { estimated: number };
const COUNTS = ["jobs", "prompt_tokens", "output_tokens", "load_ms", "prompt_eval_ms", "generation_ms", "target_ms"] as const;
const SUMS = COUNTS.map((c) => `SUM(${c}) AS ${c}`).join(", ");

/** The upsert of one table of the rollup: `bucket` is its time column (hour or day). */
const upsert = (table: string, bucket: string) => `INSERT INTO ${table} (dimension, ${bucket}, value, estimated, ${COUNTS.join(", ")})
  VALUES ($dimension, $bucket, $value, $estimated, 1, $prompt_tokens, $output_tokens, $load_ms, $prompt_eval_ms, $generation_ms, $target_ms)
  ON CONFLICT (dimension, ${bucket}, value, estimated) DO UPDATE SET ${COUNTS.map((c) => `${c} = ${c} + ${c === "jobs" ? "1" : `$${c}`}`).join(", ")}`;

/**
 * The whole hours from `from` to `to` read as whole days where they can be: the hours before the
 * first midnight and after the last one from the hourly table, the days between from the daily
 * one. A year is then about 365 rows per group, not 8,760.
 */
export function spans(from: number, to: number): { hours: [number, number][]; days: [number, number] } {
  const firstDay = Math.ceil(from / DAY_MS) * DAY_MS;
  const lastDay = Math.floor(to / DAY_MS) * DAY_MS;
  if (firstDay >= lastDay) return { hours: [[from, to]], days: [to, to] };
  return { hours: [[from, firstDay], [lastDay, to]], days: [firstDay, lastDay] };
}

export class UsageLedger {
  private readonly s;

  constructor(db: Database) {
    const range = (table: string, bucket: string, from: string, to: string) =>
      `SELECT value, estimated, ${SUMS} FROM ${table} WHERE dimension = $by AND ${bucket} >= $${from} AND ${bucket} < $${to} GROUP BY value, estimated`;
    this.s = {
      hour: db.query<never, Record<string, string | number>>(upsert("usage_hourly", "hour")),
      day: db.query<never, Record<string, string | number>>(upsert("usage_daily", "day")),
      // each part is a range scan of its table's primary key (dimension, then time)
      sums: db.query<SumRow, Record<string, string | number>>(
        `SELECT value, estimated, ${SUMS} FROM (${range("usage_hourly", "hour", "h1", "h2")} UNION ALL ${range("usage_hourly", "hour", "h3", "h4")} UNION ALL ${range("usage_daily", "day", "d1", "d2")})
         GROUP BY value, estimated ORDER BY value, estimated`,
      ),
      pruneHours: db.query<never, [number]>(`DELETE FROM usage_hourly WHERE hour < ?`),
      pruneDays: db.query<never, [number]>(`DELETE FROM usage_daily WHERE day < ?`),
    };
  }

  /** Adds each job's usage to the rollup in the transaction that marks it done. */
  install(queue: Queue): void {
    queue.onEvent((job, event) => {
      if (event.type === "done" && job.usage) this.add(job, job.usage, event.at);
    });
  }

  /** Adds one finished job's cost to the hour and the day it finished in, once per dimension. */
  add(job: JobRecord, usage: Usage, at: number): void {
    const values = dimensionsOf(job);
    const { estimated, ...counts } = usage;
    for (const dimension of USAGE_DIMENSIONS) {
      const row = { dimension, value: values[dimension], estimated: estimated ? 1 : 0, ...counts };
      this.s.hour.run({ ...row, bucket: hourOf(at) });
      this.s.day.run({ ...row, bucket: Math.floor(at / DAY_MS) * DAY_MS });
    }
  }

  /**
   * Sums by `by` over whole hours: from the start of the hour `since` falls in to the end of the
   * hour `until` falls in (`until` itself when it starts an hour), which it returns as `from` and `to`.
   */
  report(by: UsageDimension, since: number, until: number): { from: number; to: number; rows: UsageRow[] } {
    const from = hourOf(since);
    const to = until === hourOf(until) ? until : hourOf(until) + HOUR_MS;
    const { hours, days } = spans(from, to);
    const params = { by, h1: hours[0]![0], h2: hours[0]![1], h3: hours[1]?.[0] ?? 0, h4: hours[1]?.[1] ?? 0, d1: days[0], d2: days[1] };
    return { from, to, rows: this.s.sums.all(params).map((r) => ({ ...r, estimated: r.estimated === 1 })) };
  }

  /** Drops the hours and the whole days before `cutoff` (FOREMAN_USAGE_RETENTION_HOURS); returns how many rows went. */
  prune(cutoff: number): number {
    return this.s.pruneHours.run(hourOf(cutoff)).changes + this.s.pruneDays.run(Math.floor(cutoff / DAY_MS) * DAY_MS).changes;
  }
}

const AGO_UNITS: Record<string, number> = { m: 60_000, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS };
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A point in time as GET /usage takes it: RFC 3339, or a span back from `now` (`90m`, `24h`, `7d`, `2w`); null when it is neither. */
export function pointInTime(text: string, now: number): number | null {
  const ago = /^(\d{1,6})([mhdw])$/.exec(text);
  if (ago) return now - Number(ago[1]) * AGO_UNITS[ago[2]!]!;
  if (!RFC3339.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}
