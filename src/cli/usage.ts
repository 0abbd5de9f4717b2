// `foreman usage`: GET /usage as a table — what finished work cost over a span, one row per
// model (or endpoint, lane, client, tag), estimated work on rows of its own (ADR 0036).
import type { UsageReport } from "../../clients/ts/types.ts";
import { USAGE_DIMENSIONS } from "../contract/usage.ts";
import { clientOf, show } from "./connection.ts";
import { EXIT } from "./exit-codes.ts";
import { table } from "./format.ts";
import { oneOf, str, type Handler } from "./spec.ts";

const count = (n: number) => n.toLocaleString("en");

/** Milliseconds summed over many jobs, in the unit that reads best: 850ms, 12.5s, 4m10s, 31.2h. */
export function spent(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${Math.floor(ms / 1000) % 60}s`;
  return `${(ms / 3_600_000).toFixed(1)}h`;
}

/** The report as a table with a total line; pure. */
export function usageTable(report: UsageReport): string {
  if (report.rows.length === 0) return `no finished work from ${report.since} to ${report.until}\n`;
  const total = { jobs: 0, prompt_tokens: 0, output_tokens: 0, load_ms: 0, prompt_eval_ms: 0, generation_ms: 0, target_ms: 0 };
  for (const r of report.rows) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
  const line = (group: string, r: typeof total) => [group, count(r.jobs), count(r.prompt_tokens), count(r.output_tokens), spent(r.load_ms), spent(r.prompt_eval_ms), spent(r.generation_ms), spent(r.target_ms)];
  const rows = report.rows.map((r) => line(`${r.group ?? "-"}${r.estimated ? " (estimated)" : ""}`, r));
  const header = [report.by.toUpperCase(), "JOBS", "PROMPT TOKENS", "OUTPUT TOKENS", "LOAD", "PROMPT EVAL", "GENERATION", "TARGET"];
  return `${report.since} to ${report.until}\n${table([header, ...rows, line("TOTAL", total)])}`;
}

export const usage: Handler = async ({ values }) => {
  const report = await clientOf(values).usage({ since: str(values.since) ?? "24h", until: str(values.until), by: oneOf("--by", values.by, USAGE_DIMENSIONS) });
  show(values, report, () => usageTable(report));
  return EXIT.ok;
};
