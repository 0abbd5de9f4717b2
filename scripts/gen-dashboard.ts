// Writes deploy/grafana/foreman.json, the Grafana dashboard foreman ships, from the table of
// rows and panels below. A panel is one entry — title, what it shows, unit, its PromQL — and
// everything Grafana needs around it (ids, the layout, the data source, the instance filter) is
// filled in here, so adding a panel, or a row for a new part of foreman, is adding an entry.
// A test regenerates the file and fails when the two disagree; it also checks every metric the
// queries read against a real /metrics scrape and has promtool parse every query (ADR 0025).
import { join } from "node:path";

/** One query of a panel; `legend` is Grafana's legend format (`{{model}}`). */
export interface Query {
  expr: string;
  legend?: string;
}

export interface Panel {
  title: string;
  /** Shown in the panel's info tooltip: what it means and what to do about it. */
  description: string;
  /** stat: one number now; timeseries: a graph over the time range. */
  kind: "stat" | "timeseries";
  /** A Grafana unit: s, bytes, percentunit, short, … */
  unit: string;
  queries: Query[];
  /** Grid columns of 24 (stat 4, timeseries 12 unless given). */
  width?: number;
  /** Stack the series (parts of a whole: queued work by model, outcomes). */
  stacked?: boolean;
  /** Stat panels: show the series' name (a state) instead of its value. */
  showName?: boolean;
  /** Stat panels: value → text and colour (0 → down, red). */
  mappings?: Record<string, { text: string; color: string }>;
  /** Stat panels: from this value on the number turns red. */
  redFrom?: number;
}

export interface Row {
  title: string;
  panels: Panel[];
}

/** A metric selector filtered to the dashboard's chosen instances. */
const m = (name: string, matchers = "") => `${name}{${matchers ? `${matchers}, ` : ""}instance=~"$instance"}`;
const rate = (name: string, matchers = "") => `rate(${m(name, matchers)}[$__rate_interval])`;
const quantile = (q: number, histogram: string, by: string, matchers = "") => `histogram_quantile(${q}, sum by (le, ${by}) (${rate(`${histogram}_bucket`, matchers)}))`;
/** The median and the 95th percentile of a histogram, one line per `by` value. */
const percentiles = (histogram: string, by: string) => [0.5, 0.95].map((q) => ({ expr: quantile(q, histogram, by), legend: `{{${by}}} p${q * 100}` }));
/** A counter's rate as a count per `seconds` (3600: per hour, 60: per minute), summed, or summed by a label. */
const per = (seconds: number, counter: string, by?: string) => `sum${by ? ` by (${by}) ` : ""}(${rate(counter)}) * ${seconds}`;

export const ROWS: Row[] = [
  {
    title: "Now",
    panels: [
      {
        title: "Target",
        description: "Whether the Ollama target answered foreman's last liveness probe. While it is down, jobs wait and passthrough requests get 503s.",
        kind: "stat",
        unit: "none",
        queries: [{ expr: `min(${m("foreman_target_up")})` }],
        mappings: { "0": { text: "down", color: "red" }, "1": { text: "up", color: "green" } },
      },
      {
        title: "Worker",
        description: "What the one worker does: idle, loading or working (the state of the work it has on the target), or paused (the target is down, or foreman recovers from an error of its own).",
        kind: "stat",
        unit: "none",
        queries: [{ expr: `${m("foreman_worker_state")} == 1`, legend: "{{state}}" }],
        showName: true,
      },
      {
        title: "Queued",
        description: "Jobs and passthrough requests waiting for the worker.",
        kind: "stat",
        unit: "short",
        queries: [{ expr: `sum(${m("foreman_jobs", 'state="queued"')}) or vector(0)` }],
      },
      {
        title: "Oldest wait",
        description: "How long the oldest queued work has waited. It grows while the target sleeps; with the target up it should stay below the aging cap (FOREMAN_AGING_CAP_MS, 10 minutes).",
        kind: "stat",
        unit: "s",
        queries: [{ expr: `max(${m("foreman_queue_oldest_wait_seconds")}) or vector(0)` }],
        redFrom: 1800,
      },
      {
        title: "Webhook backlog",
        description: "Webhook deliveries waiting to be sent or retried.",
        kind: "stat",
        unit: "short",
        queries: [{ expr: `sum(${m("foreman_webhook_deliveries_pending")})` }],
        redFrom: 100,
      },
      {
        title: "Database errors",
        description: "Writes SQLite refused in the time range (a full disk, a read-only file): while they happen POST /jobs answers 503.",
        kind: "stat",
        unit: "short",
        queries: [{ expr: `sum(increase(${m("foreman_database_errors_total")}[$__range]))` }],
        redFrom: 1,
      },
    ],
  },
  {
    title: "Queue",
    panels: [
      {
        title: "Queued by model",
        description: "Work waiting, by the model it needs. foreman drains one model before it switches (drain-by-model).",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (model) (${m("foreman_jobs", 'state="queued"')})`, legend: "{{model}}" }],
        stacked: true,
      },
      {
        title: "Oldest wait by model",
        description: "How long each model's oldest queued work has waited since it was submitted.",
        kind: "timeseries",
        unit: "s",
        queries: [{ expr: `max by (model) (${m("foreman_queue_oldest_wait_seconds")})`, legend: "{{model}}" }],
      },
      {
        title: "On the target",
        description: "The work the worker has on the target: loading (the model is being loaded) or working (the reply is streaming).",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (state, model) (${m("foreman_jobs", 'state=~"loading|working"')})`, legend: "{{state}} {{model}}" }],
        stacked: true,
      },
      {
        title: "Time in the queue",
        description: "From entering the queue to being sent to the target, by lane (async: jobs from POST /jobs; interactive: passthrough requests to /api/*, /v1/*).",
        kind: "timeseries",
        unit: "s",
        queries: percentiles("foreman_queue_wait_seconds", "lane"),
      },
    ],
  },
  {
    title: "Worker and models",
    panels: [
      {
        title: "Worker state",
        description: "The share of time the worker spent idle, loading, working or paused.",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: `avg by (state) (avg_over_time(${m("foreman_worker_state")}[$__rate_interval]))`, legend: "{{state}}" }],
        stacked: true,
      },
      {
        title: "Loads, swaps and reloads per hour",
        description:
          "Model loads foreman caused; those that replaced a resident runner (swaps); and the swaps that reloaded the same model because a request changed its load-time options (num_ctx, …). Many swaps per job: the workload interleaves models faster than the aging cap lets foreman drain. Many reloads: clients mix num_ctx values for one model.",
        kind: "timeseries",
        unit: "short",
        queries: [
          { expr: per(3600, "foreman_model_loads_total"), legend: "loads" },
          { expr: per(3600, "foreman_model_swaps_total"), legend: "swaps" },
          { expr: per(3600, "foreman_model_reloads_total"), legend: "reloads" },
        ],
      },
      {
        title: "Preemptions per hour",
        description: "Async jobs stopped for a passthrough request that waited FOREMAN_PREEMPT_AFTER_MS; each goes back to its queue and runs again from the start. Many: chats keep interrupting batch work (raise the threshold, or submit costly jobs with preemptible false).",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(3600, "foreman_preemptions_total"), legend: "preemptions" }],
      },
      {
        title: "Generation discarded by preemptions",
        description: "Seconds of generation thrown away per hour: from each preempted job's first byte to its stop. What the batch pays for interactive latency.",
        kind: "timeseries",
        unit: "s",
        queries: [{ expr: per(3600, "foreman_preempted_generation_seconds_total"), legend: "discarded per hour" }],
      },
      {
        title: "Work ended at a limit per hour",
        description:
          "ADR 0035. max_run: attempts stopped at their run-time cap (a looping model; the job failed, not retried) — FOREMAN_JOB_MAX_RUN_MS, a job's max_run, FOREMAN_INTERACTIVE_MAX_RUN_MS. expired: jobs not started by their start_by, canceled. Many max_run stops for one model: it loops; many expiries: the queue is longer than the callers' deadlines.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(3600, "foreman_jobs_ended_by_limit_total", "lane, reason"), legend: "{{reason}} {{lane}}" }],
      },
      {
        title: "Wake-on-LAN packets per hour",
        description: "Magic packets sent to wake the target (FOREMAN_WAKE_MAC) while it was down with work waiting. Packets and a target that stays down: see docs/operations.md, When the target sleeps.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(3600, "foreman_target_wakes_total"), legend: "wake packets" }],
      },
      {
        title: "Model load time",
        description: "How long the target took to load a model before its first byte.",
        kind: "timeseries",
        unit: "s",
        queries: percentiles("foreman_model_load_seconds", "lane"),
      },
      {
        title: "Target probes failing",
        description: "Failed polls of the target per minute (liveness, /api/tags, /api/ps).",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(60, "foreman_poller_errors_total"), legend: "failed polls" }],
      },
    ],
  },
  {
    title: "Latency and throughput",
    panels: [
      {
        title: "Time to first token by model",
        description: "From sending to the target to its first byte (a model load included).",
        kind: "timeseries",
        unit: "s",
        queries: percentiles("foreman_time_to_first_token_seconds", "model"),
      },
      {
        title: "Tokens per second by model",
        description: "Generation speed of streamed replies, from the target's first byte to its last, averaged over the replies.",
        kind: "timeseries",
        unit: "short",
        queries: [
          {
            expr: `sum by (model) (${rate("foreman_generation_tokens_per_second_sum")}) / sum by (model) (${rate("foreman_generation_tokens_per_second_count")})`,
            legend: "{{model}}",
          },
        ],
      },
      {
        title: "Tokens generated per second",
        description: "All tokens the target generated for finished work, by model: how busy the target is.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (model) (${rate("foreman_tokens_generated_total")})`, legend: "{{model}}" }],
        stacked: true,
      },
      {
        title: "Run duration",
        description: "From sending to the target to the end of its reply, by lane.",
        kind: "timeseries",
        unit: "s",
        queries: percentiles("foreman_run_duration_seconds", "lane"),
      },
    ],
  },
  {
    title: "Usage",
    panels: [
      {
        title: "Prompt tokens per hour by model",
        description: "Prompt tokens the target evaluated for work that ended done, by model (ADR 0036). GET /usage and `foreman usage` give the same sums by endpoint, lane, client or tag, over a year.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(3600, "foreman_usage_prompt_tokens_total", "model"), legend: "{{model}}" }],
        width: 8,
        stacked: true,
      },
      {
        title: "Output tokens per hour by model",
        description: "Tokens the target generated for work that ended done, by model; streamed /v1 replies whose clients asked for no usage count foreman's own estimate.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(3600, "foreman_usage_output_tokens_total", "model"), legend: "{{model}}" }],
        width: 8,
        stacked: true,
      },
      {
        title: "Target time by lane",
        description: "Share of the time the target was held by finished work, by lane: async jobs against passthrough requests. 1 means the GPU was never idle.",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: `sum by (lane) (${rate("foreman_usage_target_seconds_total")})`, legend: "{{lane}}" }],
        width: 8,
        stacked: true,
      },
    ],
  },
  {
    title: "Outcomes",
    panels: [
      {
        title: "Finished per minute",
        description: "Jobs and passthrough requests that ended, by final state.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(60, "foreman_jobs_finished_total", "state"), legend: "{{state}}" }],
        stacked: true,
      },
      {
        title: "Failure ratio",
        description: "The share of finished work that failed, by lane. Each job's error is in GET /jobs?status=failed (passthrough requests: GET /jobs?lane=interactive&status=failed).",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: `sum by (lane) (${rate("foreman_jobs_finished_total", 'state="failed"')}) / sum by (lane) (${rate("foreman_jobs_finished_total")})`, legend: "{{lane}}" }],
      },
    ],
  },
  {
    title: "Batches",
    panels: [
      {
        title: "Batches by status",
        description: "OpenAI batches (/v1/batches) by status: validating and in_progress are waiting or running; the ended ones count until retention removes them. GET /status names the batch on the target and its progress.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (status) (${m("foreman_batches", 'status=~"validating|in_progress|finalizing|cancelling"')})`, legend: "{{status}}" }],
        width: 8,
        stacked: true,
      },
      {
        title: "Batch lines by state",
        description: "Lines of the batches not ended, by job state: queued lines falling while done ones grow is progress. Batch lines yield to other models' plain jobs (ADR 0040).",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum by (state) (${m("foreman_batch_lines")})`, legend: "{{state}}" }],
        width: 8,
        stacked: true,
      },
      {
        title: "Batch lines expired per hour",
        description: "Lines never run because their batch's completion window ended first (ForemanBatchLinesExpired): more batch work than the target can do in the window; give batches a longer completion_window or fewer lines.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(3600, "foreman_batch_lines_expired_total"), legend: "expired lines" }],
        width: 8,
      },
    ],
  },
  {
    title: "Webhooks",
    panels: [
      {
        title: "Backlog",
        description: "Deliveries waiting to be sent or retried.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: `sum(${m("foreman_webhook_deliveries_pending")})`, legend: "pending" }],
        width: 8,
      },
      {
        title: "Attempts per minute",
        description: "Delivery attempts by outcome: delivered, rejected (a non-2xx answer), unreachable (no answer), refused (the URL policy).",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(60, "foreman_webhook_deliveries_total", "outcome"), legend: "{{outcome}}" }],
        stacked: true,
        width: 8,
      },
      {
        title: "Given up and delivery lag",
        description: "Deliveries given up per hour (retries exhausted, 410 Gone, refused), and the time from a state change to its successful delivery.",
        kind: "timeseries",
        unit: "short",
        queries: [
          { expr: per(3600, "foreman_webhook_deliveries_failed_total"), legend: "given up per hour" },
          { expr: `histogram_quantile(0.95, sum by (le) (${rate("foreman_webhook_delivery_lag_seconds_bucket")}))`, legend: "lag p95 (s)" },
        ],
        width: 8,
      },
    ],
  },
  {
    title: "HTTP",
    panels: [
      {
        title: "Requests by status class",
        description: "Requests served per second. 499 (a client gone) and 408 (a body too slow) are the clients' doing; 5xx on /api/* and /v1/* may be the target's, relayed.",
        kind: "timeseries",
        unit: "reqps",
        queries: ["2", "3", "4", "5"].map((c) => ({ expr: `sum(${rate("foreman_http_requests_total", `status=~"${c}.."`)})`, legend: `${c}xx` })),
        stacked: true,
      },
      {
        title: "5xx by route",
        description: "Server errors per second by route: foreman's own routes (/jobs, /status, /readyz) or the passthrough ones relaying the target's.",
        kind: "timeseries",
        unit: "reqps",
        queries: [{ expr: `sum by (route, status) (${rate("foreman_http_requests_total", 'status=~"5.."')})`, legend: "{{status}} {{route}}" }],
      },
    ],
  },
  {
    title: "Process and database",
    panels: [
      {
        title: "Memory",
        description: "Resident memory of the foreman process.",
        kind: "timeseries",
        unit: "bytes",
        queries: [{ expr: m("process_resident_memory_bytes"), legend: "resident {{instance}}" }],
        width: 6,
      },
      {
        title: "CPU",
        description: "CPU time the foreman process uses (1 = one core).",
        kind: "timeseries",
        unit: "percentunit",
        queries: [{ expr: rate("process_cpu_seconds_total"), legend: "{{instance}}" }],
        width: 6,
      },
      {
        title: "File descriptors",
        description: "Open file descriptors (sockets, the database) against the limit.",
        kind: "timeseries",
        unit: "short",
        queries: [
          { expr: m("process_open_fds"), legend: "open {{instance}}" },
          { expr: m("process_max_fds"), legend: "limit {{instance}}" },
        ],
        width: 6,
      },
      {
        title: "Database errors",
        description: "Writes SQLite refused, per minute.",
        kind: "timeseries",
        unit: "short",
        queries: [{ expr: per(60, "foreman_database_errors_total"), legend: "refused writes" }],
        width: 6,
      },
    ],
  },
];

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const HEIGHT = { stat: 4, timeseries: 8 } as const;
const WIDTH = { stat: 4, timeseries: 12 } as const;

function panelJson(p: Panel, id: number, gridPos: { h: number; w: number; x: number; y: number }): Record<string, unknown> {
  const targets = p.queries.map((q, i) => ({ datasource: DATASOURCE, refId: String.fromCharCode(65 + i), expr: q.expr, legendFormat: q.legend ?? "__auto", range: true }));
  const steps = [{ color: "green", value: null }, ...(p.redFrom === undefined ? [] : [{ color: "red", value: p.redFrom }])];
  const mappings = p.mappings
    ? [{ type: "value", options: Object.fromEntries(Object.entries(p.mappings).map(([value, { text, color }], index) => [value, { text, color, index }])) }]
    : [];
  const common = { id, type: p.kind, title: p.title, description: p.description, datasource: DATASOURCE, gridPos, targets };
  if (p.kind === "stat") {
    return {
      ...common,
      fieldConfig: { defaults: { unit: p.unit, mappings, thresholds: { mode: "absolute", steps }, color: { mode: "thresholds" } }, overrides: [] },
      options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, textMode: p.showName ? "name" : "value", colorMode: "background", graphMode: "none", justifyMode: "center", orientation: "auto" },
    };
  }
  return {
    ...common,
    fieldConfig: {
      defaults: {
        unit: p.unit,
        min: 0,
        color: { mode: "palette-classic" },
        custom: { drawStyle: "line", lineWidth: 1, fillOpacity: p.stacked ? 30 : 10, showPoints: "never", spanNulls: false, stacking: { mode: p.stacked ? "normal" : "none", group: "A" } },
      },
      overrides: [],
    },
    options: { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } },
  };
}

/** The dashboard: each row's panels left to right, wrapping at 24 columns. */
export function dashboard(): Record<string, unknown> {
  const panels: Record<string, unknown>[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: "row", title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let height = 0;
    for (const p of row.panels) {
      const w = p.width ?? WIDTH[p.kind];
      if (x + w > 24) {
        y += height;
        x = 0;
        height = 0;
      }
      panels.push(panelJson(p, id++, { h: HEIGHT[p.kind], w, x, y }));
      x += w;
      height = Math.max(height, HEIGHT[p.kind]);
    }
    y += height;
  }
  return {
    title: "foreman",
    uid: "foreman",
    description: "foreman in front of one Ollama: the queue, the worker and models, latency and throughput, outcomes, webhooks, HTTP and the process. Generated by scripts/gen-dashboard.ts.",
    tags: ["foreman", "ollama"],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    timezone: "",
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        { type: "datasource", name: "datasource", label: "Prometheus", query: "prometheus", current: {}, hide: 0, refresh: 1 },
        {
          type: "query",
          name: "instance",
          label: "foreman",
          datasource: DATASOURCE,
          query: { query: "label_values(foreman_target_up, instance)", refId: "instance" },
          definition: "label_values(foreman_target_up, instance)",
          multi: true,
          includeAll: true,
          allValue: ".*",
          current: {},
          refresh: 2,
          sort: 1,
          hide: 0,
        },
      ],
    },
    panels,
  };
}

export const DASHBOARD_FILE = join(import.meta.dir, "..", "deploy", "grafana", "foreman.json");

export const renderDashboard = (): string => JSON.stringify(dashboard(), null, 2) + "\n";

if (import.meta.main) {
  await Bun.write(DASHBOARD_FILE, renderDashboard());
  console.log(`deploy/grafana/foreman.json: ${ROWS.length} rows, ${ROWS.reduce((n, r) => n + r.panels.length, 0)} panels`);
}
