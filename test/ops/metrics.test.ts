import { describe, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { Counter, Histogram, Registry } from "../../src/ops/metrics.ts";
import { sharedStack, waitFor } from "../harness.ts";

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
    expect(text).toContain('foreman_jobs_finished_total{kind="job",state="done",model="llama3.2:latest"} 1');
    expect(text).toContain('foreman_jobs_finished_total{kind="passthrough",state="done",model="llama3.2:latest"} 1');
    expect(text).toMatch(/foreman_run_duration_seconds_count\{kind="job"\} 1/);
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
