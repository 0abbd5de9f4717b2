// The usage ledger (ADR 0036): an hourly rollup of what finished work cost, by model, endpoint,
// lane, client and tag. A job's cost is added inside the transaction that marks it done (an
// event hook, like the outbox), so it rides the worker's commit between jobs and never needs a
// commit of its own. GET /usage reads this table alone, so its answer costs the hours and
// groups asked for, not the jobs behind them, and it outlives job retention (its own setting).
import type { Database } from "bun:sqlite";
import type { Usage } from "../engine/usage.ts";
import { laneName } from "./view.ts";
import type { JobRecord, Queue } from "./queue.ts";

export const USAGE_DIMENSIONS = ["model", "endpoint", "lane", "client", "tag"] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

const HOUR_MS = 3_600_000;
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
const SUMS = "SUM(jobs) AS jobs, SUM(prompt_tokens) AS prompt_tokens, SUM(output_tokens) AS output_tokens, SUM(load_ms) AS load_ms, SUM(prompt_eval_ms) AS prompt_eval_ms, SUM(generation_ms) AS generation_ms, SUM(target_ms) AS target_ms";

export class UsageLedger {
  private readonly s;

  constructor(db: Database) {
    this.s = {
      add: db.query<never, Record<string, string | number>>(`INSERT INTO usage_hourly (dimension, hour, value, estimated, jobs, prompt_tokens, output_tokens, load_ms, prompt_eval_ms, generation_ms, target_ms)
         VALUES ($dimension, $hour, $value, $estimated, 1, $prompt, $output, $load, $promptEval, $generation, $target)
         ON CONFLICT (dimension, hour, value, estimated) DO UPDATE SET jobs = jobs + 1, prompt_tokens = prompt_tokens + $prompt, output_tokens = output_tokens + $output,
           load_ms = load_ms + $load, prompt_eval_ms = prompt_eval_ms + $promptEval, generation_ms = generation_ms + $generation, target_ms = target_ms + $target`),
      // the primary key's prefix (dimension, hour) makes this a range scan over the hours asked for
      sums: db.query<SumRow, [string, number, number]>(`SELECT value, estimated, ${SUMS} FROM usage_hourly WHERE dimension = ? AND hour >= ? AND hour < ? GROUP BY value, estimated ORDER BY value, estimated`),
      prune: db.query<never, [number]>(`DELETE FROM usage_hourly WHERE hour < ?`),
    };
  }

  /** Adds each job's usage to the rollup in the transaction that marks it done. */
  install(queue: Queue): void {
    queue.onEvent((job, event) => {
      if (event.type === "done" && job.usage) this.add(job, job.usage, event.at);
    });
  }

  /** Adds one finished job's cost to the hour it finished in, once per dimension. */
  add(job: JobRecord, usage: Usage, at: number): void {
    const values = dimensionsOf(job);
    for (const dimension of USAGE_DIMENSIONS) {
      this.s.add.run({
        dimension,
        hour: hourOf(at),
        value: values[dimension],
        estimated: usage.estimated ? 1 : 0,
        prompt: usage.prompt_tokens,
        output: usage.output_tokens,
        load: usage.load_ms,
        promptEval: usage.prompt_eval_ms,
        generation: usage.generation_ms,
        target: usage.target_ms,
      });
    }
  }

  /**
   * Sums by `by` over whole hours: from the start of the hour `since` falls in to the end of the
   * hour `until` falls in (`until` itself when it starts an hour), which it returns as `from` and `to`.
   */
  report(by: UsageDimension, since: number, until: number): { from: number; to: number; rows: UsageRow[] } {
    const from = hourOf(since);
    const to = until === hourOf(until) ? until : hourOf(until) + HOUR_MS;
    return { from, to, rows: this.s.sums.all(by, from, to).map((r) => ({ ...r, estimated: r.estimated === 1 })) };
  }

  /** Drops the hours before `cutoff` (FOREMAN_USAGE_RETENTION_HOURS); returns how many rows went. */
  prune(cutoff: number): number {
    return this.s.prune.run(hourOf(cutoff)).changes;
  }
}

const AGO_UNITS: Record<string, number> = { m: 60_000, h: HOUR_MS, d: 24 * HOUR_MS, w: 7 * 24 * HOUR_MS };
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

/** A point in time as GET /usage takes it: RFC 3339, or a span back from `now` (`90m`, `24h`, `7d`, `2w`); null when it is neither. */
export function pointInTime(text: string, now: number): number | null {
  const ago = /^(\d{1,6})([mhdw])$/.exec(text);
  if (ago) return now - Number(ago[1]) * AGO_UNITS[ago[2]!]!;
  if (!RFC3339.test(text)) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}
