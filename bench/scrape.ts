// Scrape cost: how long GET /metrics takes, and how large it is, on an idle foreman and on one
// with a deep queue over many models and a webhook backlog (the gauges the dashboard and the
// alerts read are computed at scrape time: jobs by state and model, the oldest wait by model,
// the pending deliveries). Also what a job event's snapshot (ADR 0026) costs in the database.
// Run: bun bench/scrape.ts
import { startSimulator } from "../src/sim/index.ts";
import { ASYNC } from "../src/queue/queue.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const SCRAPES = 200;
const JOBS = 20_000;
const MODELS = 20;

// the target is asleep: the queue stays as it is while it is scraped
const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, faults: { asleep: true } });
const never = Promise.withResolvers<void>();
const receiver = Bun.serve({ port: 0, hostname: "127.0.0.1", idleTimeout: 0, fetch: async () => (await never.promise, new Response("late")) });
const foreman = await startTestForeman({ target: sim.url, pollIntervalMs: 1000 });
const { queue, store } = foreman.services;

async function measure(): Promise<{ p50: number; p95: number; bytes: number; series: number }> {
  const times: number[] = [];
  let text = "";
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    text = await (await fetch(`${foreman.url}/metrics`)).text();
    times.push(performance.now() - t0);
  }
  const sorted = times.toSorted((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), bytes: text.length, series: text.split("\n").filter((l) => l && !l.startsWith("#")).length };
}

const idle = await measure();
// a deep queue over many models, every job with a webhook whose receiver never answers
for (let batch = 0; batch < JOBS / 1000; batch++) {
  queue.atomically(() => {
    for (let i = 0; i < 1000; i++) {
      const model = `model-${(batch * 1000 + i) % MODELS}`;
      queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model, request: JSON.stringify({ model, messages: [] }), webhook: { url: `http://127.0.0.1:${receiver.port}/hook`, events: null } });
    }
  });
}
const pending = foreman.services.telemetry.registry.render().match(/^foreman_webhook_deliveries_pending (\d+)$/m)?.[1];
const deep = await measure();
const snapshot = store.db.query("SELECT AVG(LENGTH(snapshot)) AS avg, COUNT(*) AS n FROM job_events").get() as { avg: number; n: number };

await foreman.stop();
never.resolve();
await receiver.stop(true);
await sim.stop();

await writeSection(
  "Scrape cost",
  `\`bun bench/scrape.ts\` — ${machine()}. ${SCRAPES} sequential \`GET /metrics\` on loopback, on an idle foreman and with
${JOBS.toLocaleString("en")} queued jobs over ${MODELS} models (the target asleep) and ${Number(pending).toLocaleString("en")} webhook deliveries pending.
The gauges are read at scrape time: jobs by state and model and the oldest wait by model from one grouped query, the
backlog from a count over the pending deliveries.

| foreman | p50 | p95 | size | samples |
|---|---|---|---|---|
| idle | ${fmt(idle.p50, 2)} ms | ${fmt(idle.p95, 2)} ms | ${(idle.bytes / 1024).toFixed(1)} KiB | ${idle.series} |
| ${JOBS.toLocaleString("en")} queued, ${MODELS} models, a webhook backlog | ${fmt(deep.p50, 2)} ms | ${fmt(deep.p95, 2)} ms | ${(deep.bytes / 1024).toFixed(1)} KiB | ${deep.series} |

Job event snapshots (ADR 0026): ${fmt(snapshot.avg, 0)} bytes per event on average (${snapshot.n.toLocaleString("en")} events).`,
);
