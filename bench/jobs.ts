// Job API benchmark: (1) POST /jobs acceptance at 32 concurrent clients, every job committed
// before its 202, with and without group commit; (2) webhook delivery latency from the state
// change to receipt at a loopback receiver. Run: bun bench/jobs.ts
import { startSimulator } from "../src/sim/index.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, lagReceiver, machine, percentile, writeSection } from "./report.ts";

const CLIENTS = 32;
const JOBS = 20_000;

async function acceptance(groupCommit: boolean) {
  // a target that is not there: the worker pauses, so this measures acceptance alone
  const foreman = await startTestForeman({ target: "http://127.0.0.1:9", pollIntervalMs: 60_000, pollMaxBackoffMs: 60_000 }, { groupCommit });
  const body = JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } });
  const proc = Bun.spawn([process.execPath, `${import.meta.dir}/load.ts`, `${foreman.url}/jobs`, String(JOBS), String(CLIENTS), "POST", body], { stdout: "pipe" });
  const result = JSON.parse(await new Response(proc.stdout).text()) as { perSecond: number; statuses: Record<string, number> };
  const accepted = result.statuses["202"] ?? 0;
  const stored = (foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs").get() as { n: number }).n;
  await foreman.stop();
  return { perSecond: result.perSecond, accepted, stored };
}

async function webhookLatency() {
  const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 1 });
  const receiver = lagReceiver();
  const { lags, url } = receiver;
  const foreman = await startTestForeman({ target: sim.url });
  const N = 300;
  for (let i = 0; i < N; i++) {
    await fetch(`${foreman.url}/jobs`, { method: "POST", headers: { prefer: "wait=30" }, body: JSON.stringify({ request: { model: "llama3.2", messages: [] }, webhook: url }) });
  }
  while (lags.length < N * 3) await Bun.sleep(10);
  await foreman.stop();
  await sim.stop();
  receiver.stop();
  lags.sort((a, b) => a - b);
  return { count: lags.length, p50: percentile(lags, 50), p99: percentile(lags, 99) };
}

const batched = await acceptance(true);
const single = await acceptance(false);
const lag = await webhookLatency();
await writeSection(
  "Jobs",
  `Command: \`bun bench/jobs.ts\` (${machine()}).

### POST /jobs acceptance
${JOBS} submissions from ${CLIENTS} concurrent clients (a separate process, \`bench/load.ts\`) over loopback; a 202 is sent only after the job is committed (WAL, synchronous=NORMAL: durable across a crash of the process). The target is absent, so the worker does not compete.

| run | accepted jobs/s | accepted | rows stored |
|---|---|---|---|
| group commit (one transaction per event-loop turn) | ${fmt(batched.perSecond, 0)} | ${batched.accepted} | ${batched.stored} |
| baseline: one transaction per job | ${fmt(single.perSecond, 0)} | ${single.accepted} | ${single.stored} |

Target: ≥ 20,000 jobs/s.

### Webhook delivery latency
From the state change (the event's timestamp) to receipt at a loopback receiver, ${lag.count} deliveries (queued, working, done of ${lag.count / 3} jobs; millisecond timestamps): p50 ${lag.p50} ms, p99 ${lag.p99} ms. Target: p50 ≤ 5 ms.`,
);
