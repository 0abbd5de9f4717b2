// Reading the PromQL the dashboard and the alert rules ship, for the tests that check it against
// a real scrape: which metrics an expression reads, and which labels it names. Not a PromQL
// parser (promtool parses every expression in the tests); just enough to find names.
import { join } from "node:path";
import { DASHBOARD_FILE } from "../../scripts/gen-dashboard.ts";

export const root = join(import.meta.dir, "..", "..");

/** Identifiers that are PromQL, not metrics: keywords, and names written before `(` are functions. */
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2"]);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/** The expression with string literals emptied, so what is inside them is not read as names. */
const withoutStrings = (expr: string) => expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');

/** The metric names an expression reads (`foreman_jobs`, `foreman_queue_wait_seconds_bucket`, …). */
export function metricNames(expr: string): string[] {
  const bare = withoutStrings(expr)
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(GROUPING, " ");
  const names = new Set<string>();
  for (const match of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const before = bare[match.index - 1];
    if (before !== undefined && /[\d.]/.test(before)) continue; // part of a number (1e3)
    if (KEYWORDS.has(name.toLowerCase()) || /^\s*\(/.test(bare.slice(match.index + name.length))) continue;
    names.add(name);
  }
  return [...names];
}

/** Each selector's metric and the labels its matchers name (`foreman_jobs{state="queued"}` → state). */
export function selectors(expr: string): { metric: string; labels: string[] }[] {
  const text = withoutStrings(expr);
  return [...text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)].map((m) => ({
    metric: m[1]!,
    labels: [...m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!),
  }));
}

/** The labels an expression groups or matches by (`sum by (model)`, `on (instance)`). */
export function groupingLabels(expr: string): string[] {
  return [...withoutStrings(expr).matchAll(GROUPING)].flatMap((m) => m[2]!.split(",").map((l) => l.trim()).filter(Boolean));
}

/** Grafana's variables replaced by values Prometheus accepts, so promtool can parse a panel's query. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replaceAll("$__rate_interval", "5m").replaceAll("$__range", "6h").replaceAll("$__interval", "1m").replaceAll("$instance", ".*");
}

/** promtool on PATH, or null; CI must have it (.ci/run installs Debian's prometheus package). */
export const promtool = Bun.which("promtool");

export async function runPromtool(args: string[], cwd = root): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([promtool!, ...args], { cwd, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: (out + err).trim() };
}

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export async function alertRules(): Promise<AlertRule[]> {
  const file = Bun.YAML.parse(await Bun.file(join(root, "deploy", "prometheus", "alerts.yml")).text()) as { groups: { name: string; rules: AlertRule[] }[] };
  return file.groups.flatMap((g) => g.rules);
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: { refId: string; expr: string; datasource?: { type: string; uid: string } }[];
  fieldConfig?: { defaults: { unit?: string } };
}

export async function dashboardFile(): Promise<{ uid: string; title: string; schemaVersion: number; panels: DashboardPanel[]; templating: { list: { name: string; type: string }[] } }> {
  return (await Bun.file(DASHBOARD_FILE).json()) as never;
}
