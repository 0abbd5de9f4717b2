// Webhook isolation benchmark: delivery latency to a healthy receiver (state change → receipt)
// with 100 deliveries pending to a receiver that never answers, then with 50 such receivers
// (more than the global cap holds in per-destination shares), against a baseline without them,
// in the same run and the same foreman. Default dispatcher settings (per-destination and global
// caps, 10 s timeout, the circuit breaker), so dead receivers' attempts stay in flight throughout.
// Run: bun bench/webhooks.ts
import { startSimulator } from "../src/sim/index.ts";
import { CONCURRENCY, PER_DESTINATION } from "../src/webhooks/dispatcher.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, lagReceiver, machine, percentile, writeSection } from "./report.ts";

const JOBS = 300;
const DEAD = 100;
/** Dead destinations (origins) in the last run, two deliveries pending to each. */
const DEAD_DESTINATIONS = 50;

const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 1 });
const healthy = lagReceiver();
let deadOpen = 0;
const never = Promise.withResolvers<void>();
const neverAnswers = () =>
  Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch() {
      deadOpen++;
      await never.promise;
      return new Response("too late", { status: 503 });
    },
  });
const dead = neverAnswers();
const deadMany = Array.from({ length: DEAD_DESTINATIONS }, neverAnswers);
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
while (deadOpen < 1) await Bun.sleep(5);
const before = pending();
const withDead = await measure();
const after = pending();
const heldOpen = deadOpen;
for (const d of deadMany) for (let i = 0; i < 2; i++) await submit({ url: `http://127.0.0.1:${d.port}/hook`, events: ["job.queued"] });
// measured once their first attempts have timed out: their breakers open, and probes cycle through the run
const timedOut = () => (foreman.services.store.db.query("SELECT COUNT(*) AS n FROM delivery_attempts WHERE status IS NULL").get() as { n: number }).n;
while (timedOut() < DEAD_DESTINATIONS) await Bun.sleep(50);
const withMany = await measure();
const heldOpenMany = deadOpen - heldOpen;

await foreman.stop();
never.resolve();
await dead.stop(true);
for (const d of deadMany) await d.stop(true);
healthy.stop();
await sim.stop();

const ok = withDead.p50 <= 5 && withMany.p50 <= 5;
await writeSection(
  "Webhooks",
  `Command: \`bun bench/webhooks.ts\` (${machine()}).

### Delivery latency to a healthy receiver while others never answer
From the state change (the event's timestamp) to receipt at a loopback receiver: ${JOBS} jobs one after the other, each delivering queued, working and done (and the first one loading). Then ${DEAD} deliveries are put in front of them for a receiver that accepts the connection and never answers, and the same ${JOBS} jobs run again; then ${DEAD_DESTINATIONS} more such receivers (each its own destination) get two deliveries each, and the jobs run a third time. Dispatcher defaults: ${CONCURRENCY} deliveries in flight at once, ${PER_DESTINATION} per destination (origin) once it has proven it answers, 10 s timeout, the circuit breaker of ADR 0029.

| run | deliveries | p50 | p99 | max |
|---|---|---|---|---|
| baseline: no dead receiver | ${baseline.count} | ${fmt(baseline.p50, 0)} ms | ${fmt(baseline.p99, 0)} ms | ${fmt(baseline.max, 0)} ms |
| ${DEAD} deliveries pending to a never-answering receiver | ${withDead.count} | ${fmt(withDead.p50, 0)} ms | ${fmt(withDead.p99, 0)} ms | ${fmt(withDead.max, 0)} ms |
| and ${DEAD_DESTINATIONS} more never-answering receivers | ${withMany.count} | ${fmt(withMany.p50, 0)} ms | ${fmt(withMany.p99, 0)} ms | ${fmt(withMany.max, 0)} ms |

The first dead receiver's deliveries pending before / after the second run: ${before} / ${after}, with ${heldOpen} request(s) taken by it (one probe at a time: it never answered); the ${DEAD_DESTINATIONS} others took ${heldOpenMany} requests in all, the third run starting once each had timed out once (its breaker open). Target: p50 ≤ 5 ms with the dead receivers (${ok ? "met" : "missed"}). Before ADR 0015 all webhooks shared 8 slots, and 100 attempts to one dead receiver held every slot for the 10 s timeout (p50 119.9 s). Before ADR 0029 each destination got 8 slots whether it answered or not, so eight dead destinations filled the 64: issue 24 measured p50 15.9 s with eight and 25.2 s with ten.`,
);
if (!ok) process.exitCode = 1;
