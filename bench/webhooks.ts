// Webhook isolation benchmark: delivery latency to a healthy receiver (state change → receipt)
// with 100 deliveries pending to a receiver that never answers, against a baseline without it,
// in the same run and the same foreman. Default dispatcher settings (per-destination and global
// caps, 10 s timeout), so the dead receiver's attempts stay in flight throughout.
// Run: bun bench/webhooks.ts
import { startSimulator } from "../src/sim/index.ts";
import { CONCURRENCY, PER_DESTINATION } from "../src/webhooks/dispatcher.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, lagReceiver, machine, percentile, writeSection } from "./report.ts";

const JOBS = 300;
const DEAD = 100;

const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 1 });
const healthy = lagReceiver();
let deadOpen = 0;
const never = Promise.withResolvers<void>();
const dead = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  idleTimeout: 0,
  async fetch() {
    deadOpen++;
    await never.promise;
    return new Response("too late", { status: 503 });
  },
});
const foreman = await startTestForeman({ target: sim.url });
const pending = () => (foreman.services.store.db.query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status = 'pending' AND url LIKE ?").get(`%:${dead.port}/%`) as { n: number }).n;

async function submit(webhook: unknown): Promise<void> {
  const res = await fetch(`${foreman.url}/jobs`, { method: "POST", headers: { prefer: "wait=30" }, body: JSON.stringify({ request: { model: "llama3.2", messages: [] }, webhook }) });
  if (!res.ok) throw new Error(`POST /jobs answered ${res.status}: ${await res.text()}`);
}

/** Latency of every delivery of JOBS jobs to the healthy receiver (queued, working, done each). */
async function measure() {
  healthy.lags.length = 0;
  for (let i = 0; i < JOBS; i++) await submit(healthy.url);
  while (healthy.lags.length < JOBS * 3) await Bun.sleep(5);
  const sorted = healthy.lags.toSorted((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1)! };
}

const baseline = await measure();
for (let i = 0; i < DEAD; i++) await submit({ url: `http://127.0.0.1:${dead.port}/hook`, events: ["job.queued"] });
while (deadOpen < PER_DESTINATION) await Bun.sleep(5);
const before = pending();
const withDead = await measure();
const after = pending();
const heldOpen = deadOpen;

await foreman.stop();
never.resolve();
await dead.stop(true);
healthy.stop();
await sim.stop();

const ok = withDead.p50 <= 5;
await writeSection(
  "Webhooks",
  `Command: \`bun bench/webhooks.ts\` (${machine()}).

### Delivery latency to a healthy receiver while another never answers
From the state change (the event's timestamp) to receipt at a loopback receiver: ${JOBS} jobs one after the other, each delivering queued, working and done (and the first one loading). Then ${DEAD} deliveries are put in front of them for a receiver that accepts the connection and never answers, and the same ${JOBS} jobs run again. Dispatcher defaults: ${CONCURRENCY} deliveries in flight at once, ${PER_DESTINATION} per destination (origin), 10 s timeout.

| run | deliveries | p50 | p99 | max |
|---|---|---|---|---|
| baseline: no dead receiver | ${baseline.count} | ${fmt(baseline.p50, 0)} ms | ${fmt(baseline.p99, 0)} ms | ${fmt(baseline.max, 0)} ms |
| ${DEAD} deliveries pending to a never-answering receiver | ${withDead.count} | ${fmt(withDead.p50, 0)} ms | ${fmt(withDead.p99, 0)} ms | ${fmt(withDead.max, 0)} ms |

The dead receiver's deliveries pending before / after the measured run: ${before} / ${after}, with ${heldOpen} requests held open by it (its per-destination cap). Target: p50 ≤ 5 ms with the dead receiver (${ok ? "met" : "missed"}). Before ADR 0015 all webhooks shared 8 slots: 8 attempts to a dead receiver held every slot for the 10 s timeout, and a healthy receiver's deliveries waited behind them.`,
);
if (!ok) process.exitCode = 1;
