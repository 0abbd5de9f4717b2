import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Counter, Histogram, Registry, Sampled } from "../../src/ops/metrics.ts";
import { sharedStack, startStack, waitFor, workerBusy } from "../harness.ts";

describe("metrics registry", () => {
  test("renders counters and histograms in the Prometheus text format", () => {
    const r = new Registry();
    const c = r.add(new Counter("x_total", "things"));
    const h = r.add(new Histogram("d_seconds", "durations", [0.1, 1]));
    c.inc({ route: '/a"b' });
    c.inc({ route: '/a"b' }, 2);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(5);
    expect(r.render()).toBe(
      [
        "# HELP x_total things",
        "# TYPE x_total counter",
        'x_total{route="/a\\"b"} 3',
        "# HELP d_seconds durations",
        "# TYPE d_seconds histogram",
        'd_seconds_bucket{le="0.1"} 1',
        'd_seconds_bucket{le="1"} 2',
        'd_seconds_bucket{le="+Inf"} 3',
        "d_seconds_sum 5.55",
        "d_seconds_count 3",
        "",
      ].join("\n"),
    );
  });
});

test("a reading several gauges share is taken once per render", () => {
  const r = new Registry();
  let reads = 0;
  const rows = r.perRender(() => ++reads);
  r.add(new Sampled("gauge", "a", "first", () => [{ value: rows() }]));
  r.add(new Sampled("gauge", "b", "second", () => [{ value: rows() }]));
  expect(r.render()).toContain("a 1\n# HELP b second\n# TYPE b gauge\nb 1\n");
  expect(r.render()).toContain("b 2\n");
  expect(reads).toBe(2);
});

describe("GET /metrics", () => {
  // one model, loaded once: the loads counter is exact
  const stack = sharedStack({ sim: { tokenDelayMs: 1, loadMs: 5, maxLoaded: 1 } });

  test("reports jobs, durations, tokens, loads, target state and HTTP requests after real work", async () => {
    const job = await fetch(`${stack.url}/jobs`, {
      method: "POST",
      headers: { prefer: "wait=30" },
      body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } }),
    });
    expect(job.status).toBe(200);
    expect(job.headers.get("server-timing")).toMatch(/queue;dur=[\d.]+.*target;dur=[\d.]+/);
    const chat = await fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], stream: false }) });
    expect(chat.status).toBe(200);
    await chat.text();
    // the passthrough's terminal state commits just after its body is relayed
    await waitFor(() => stack.foreman.services.queue.activeCounts().length === 0, { what: "the passthrough job's terminal state" });
    const res = await fetch(`${stack.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const text = await res.text();
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? -?[\d.e+-]+|\w+(\{[^}]*\})? (NaN|\+Inf))$/);
    expect(text).toContain('foreman_jobs_finished_total{lane="async",state="done",model="llama3.2:latest"} 1');
    expect(text).toContain('foreman_jobs_finished_total{lane="interactive",state="done",model="llama3.2:latest"} 1');
    expect(text).toMatch(/foreman_run_duration_seconds_count\{lane="async"\} 1/);
    expect(text).toMatch(/foreman_tokens_generated_total\{model="llama3.2:latest"\} \d+/);
    expect(text).toContain("foreman_model_loads_total 1");
    expect(text).toContain("foreman_target_up 1");
    expect(text).toMatch(/foreman_http_requests_total\{route="\/jobs",method="POST",status="200"\} 1/);
    expect(text).toMatch(/foreman_http_requests_total\{route="\/api\/chat",method="POST",status="200"\} 1/);
  });

  test("a scrape parses with a real Prometheus parser, and passes promtool's checks where promtool is installed", async () => {
    const text = await (await fetch(`${stack.url}/metrics`)).text();
    const families = parsePrometheusTextFormat(text);
    const byName = Object.fromEntries(families.map((f) => [f.name, f]));
    expect(byName.foreman_jobs_finished_total?.type).toBe("COUNTER");
    expect(byName.foreman_run_duration_seconds?.type).toBe("HISTOGRAM");
    expect(byName.foreman_target_up?.type).toBe("GAUGE");
    expect(Number(byName.foreman_run_duration_seconds!.metrics[0]!.buckets?.["+Inf"])).toBeGreaterThan(0);
    for (const f of families) expect(f.name).toMatch(/^(foreman|process)_[a-z_]+$/);
    const promtool = Bun.which("promtool");
    if (promtool) {
      const proc = Bun.spawn([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(text), stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect({ code, problems: (out + err).trim() }).toEqual({ code: 0, problems: "" });
    } else if (process.env.CI) throw new Error("promtool is expected in CI (.ci/run installs Debian's prometheus package)");
  });
});

test("docs/operations.md's metrics table lists every metric /metrics exports, with its type, and no other", async () => {
  const stack = await startStack();
  try {
    const scraped = parsePrometheusTextFormat(await (await fetch(`${stack.url}/metrics`)).text()).map((f) => [f.name, f.type.toLowerCase()]);
    const doc = await Bun.file(join(import.meta.dir, "..", "..", "docs", "operations.md")).text();
    const section = doc.slice(doc.indexOf("## Metrics"), doc.indexOf("\n## ", doc.indexOf("## Metrics") + 1));
    // | `name{labels}` / `other_name` | type | meaning |
    const documented = section
      .split("\n")
      .filter((line) => /^\| `(foreman|process)_/.test(line))
      .flatMap((line) => {
        const [names, type] = line.split("|").slice(1, 3).map((c) => c.trim());
        return [...names!.matchAll(/`([a-z_]+)(?:\{[^}]*\})?`/g)].map((m) => [m[1]!, type!]);
      });
    // without /proc (not Linux) the process has no file descriptor or virtual memory figures
    const procOnly = existsSync("/proc/self/status") ? [] : ["process_open_fds", "process_max_fds", "process_virtual_memory_bytes"];
    expect(documented.filter(([name]) => !procOnly.includes(name!)).sort()).toEqual(scraped.sort());
  } finally {
    await stack.stop();
  }
});

describe("the metrics the dashboard and the alerts read", () => {
  // a delivery is tried twice (10 ms apart) before it is given up
  const stack = sharedStack({ sim: { tokenDelayMs: 2, loadMs: 5, maxLoaded: 1 }, start: { webhooks: { schedule: [10], timeoutMs: 5000 } } });
  const scrape = async () => (await fetch(`${stack.url}/metrics`)).text();
  const chat = (model = "llama3.2") => ({ model, messages: [{ role: "user", content: "hi" }] });
  const submit = async (body: unknown, headers: Record<string, string> = {}) => (await (await fetch(`${stack.url}/jobs`, { method: "POST", headers, body: JSON.stringify(body) })).json()) as { id: string; status: string };

  test("the worker's state, and the oldest wait by model while work waits", async () => {
    await waitFor(() => stack.foreman.services.poller.tags, { what: "the poller's first /api/tags" });
    expect(await scrape()).toContain('foreman_worker_state{state="idle"} 1\nforeman_worker_state{state="loading"} 0\nforeman_worker_state{state="working"} 0\nforeman_worker_state{state="paused"} 0\n');
    await stack.sim.setFaults({ firstByteDelayMs: 3000 });
    const running = await submit({ request: chat() });
    const waiting = await submit({ request: chat("mistral") });
    try {
      await waitFor(() => workerBusy(stack.foreman), { what: "the first job on the target" });
      const text = await scrape();
      expect(text).toMatch(/\nforeman_worker_state\{state="(loading|working)"\} 1\n/);
      expect(text).toMatch(/\nforeman_queue_oldest_wait_seconds\{model="mistral:latest"\} \d/);
      expect(text).not.toMatch(/foreman_queue_oldest_wait_seconds\{model="llama3.2:latest"\}/);
    } finally {
      for (const id of [waiting.id, running.id]) await fetch(`${stack.url}/jobs/${id}/cancel`, { method: "POST" });
      await stack.sim.setFaults({ firstByteDelayMs: 0 });
    }
    await waitFor(() => stack.foreman.services.queue.activeCounts().length === 0, { what: "both jobs to end" });
    expect(await scrape()).not.toContain("foreman_queue_oldest_wait_seconds{");
  });

  test("time to first token and generation speed by model; webhook outcomes, backlog and deliveries given up", async () => {
    let answer: (() => void) | undefined;
    const slow = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Promise<Response>((resolve) => (answer = () => resolve(new Response("ok")))) });
    try {
      const before = await scrape();
      expect(before).toContain('foreman_webhook_deliveries_total{outcome="delivered"} 0\n');
      expect(before).toContain("foreman_webhook_deliveries_failed_total 0\n");
      expect(before).toContain("foreman_database_errors_total 0\n");
      // job.done to a receiver that holds its answer: one delivery pending
      const held = await submit({ request: chat(), webhook: { url: `http://127.0.0.1:${slow.port}/hook`, events: ["job.done"] } }, { prefer: "wait=30" });
      expect(held.status).toBe("done");
      await waitFor(() => answer, { what: "the receiver to get the delivery" });
      expect(await scrape()).toContain("foreman_webhook_deliveries_pending 1\n");
      answer!();
      await waitFor(async () => (await scrape()).includes('foreman_webhook_deliveries_total{outcome="delivered"} 1\n'), { what: "the delivery to be recorded" });
      // job.done to where nothing listens: two attempts, then given up
      await submit({ request: chat(), webhook: { url: "http://127.0.0.1:9/hook", events: ["job.done"] } }, { prefer: "wait=30" });
      await waitFor(async () => (await scrape()).includes("foreman_webhook_deliveries_failed_total 1\n"), { what: "the delivery to be given up" });
      const text = await scrape();
      expect(text).toContain('foreman_webhook_deliveries_total{outcome="unreachable"} 2\n');
      expect(text).toContain("foreman_webhook_deliveries_pending 0\n");
      expect(text).toMatch(/\nforeman_time_to_first_token_seconds_count\{lane="async",model="llama3.2:latest"\} [1-9]/);
      expect(text).toMatch(/\nforeman_generation_tokens_per_second_count\{model="llama3.2:latest"\} [1-9]/);
      expect(text).toContain("foreman_database_errors_total 0\n");
    } finally {
      answer?.();
      await slow.stop(true);
    }
  });
});
