// Engine benchmark: (1) a mixed three-model workload through foreman's drain-by-model worker
// vs plain FIFO straight to the same simulator — makespan and model swaps, against the ideal
// (the work plus one load per model per drain); (2) worker overhead: tiny jobs per second
// through the whole state machine against a zero-latency target, with full sync (the default)
// and with FOREMAN_SYNC=normal, vs the same requests sent directly — several rounds, alternated,
// since the machine is shared. Run: bun bench/engine.ts
import { ASYNC } from "../src/queue/queue.ts";
import { chooseNext } from "../src/engine/scheduler.ts";
import { startSimulator } from "../src/sim/index.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, machine, untilEnded, writeSection } from "./report.ts";

const MODELS = ["llama3.2", "mistral", "qwen2.5:0.5b"];
const MIXED_JOBS = 60;
const LOAD_MS = 150;
const TOKEN_MS = 2;
const TOKENS = 10;
const TINY_JOBS = 5000;
const ROUNDS = 3;

const body = (model: string, i: number) => JSON.stringify({ model, messages: [{ role: "user", content: `question ${i}` }], stream: false });

async function mixed() {
  const workload = Array.from({ length: MIXED_JOBS }, (_, i) => MODELS[i % MODELS.length]!);
  // FIFO: one request at a time, in submission order, straight to the target
  const fifoSim = await startSimulator({ tokenDelayMs: TOKEN_MS, loadMs: LOAD_MS, responseTokens: TOKENS, maxLoaded: 1 });
  let t = performance.now();
  for (const [i, model] of workload.entries()) await (await fetch(`${fifoSim.url}/api/chat`, { method: "POST", body: body(model, i) })).text();
  const fifo = { makespan: performance.now() - t, loads: fifoSim.counters.loads };
  // the work of one job with its model resident, to compute the ideal
  t = performance.now();
  for (let i = 0; i < 10; i++) await (await fetch(`${fifoSim.url}/api/chat`, { method: "POST", body: body(workload.at(-1)!, i) })).text();
  const perJob = (performance.now() - t) / 10;
  await fifoSim.stop();

  const sim = await startSimulator({ tokenDelayMs: TOKEN_MS, loadMs: LOAD_MS, responseTokens: TOKENS, maxLoaded: 1 });
  const foreman = await startTestForeman({ target: sim.url });
  const ended = untilEnded(foreman, workload.length);
  t = performance.now();
  const q = foreman.services.queue;
  q.atomically(() => workload.forEach((model, i) => q.enqueue({ lane: ASYNC, endpoint: "/api/chat", model, request: body(model, i) })));
  foreman.services.worker.wake();
  await ended;
  const drained = { makespan: performance.now() - t, loads: sim.counters.loads };
  await foreman.stop();
  await sim.stop();
  const ideal = MIXED_JOBS * perJob + MODELS.length * LOAD_MS;
  return { fifo, drained, ideal, perJob };
}

/** Tiny requests sent straight to the target one at a time, as foreman's worker would send them. */
async function direct(url: string, stream: boolean): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < TINY_JOBS; i++) {
    const b = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: `question ${i}` }], stream });
    await (await fetch(`${url}/api/chat`, { method: "POST", body: b })).text();
  }
  return TINY_JOBS / ((performance.now() - t) / 1000);
}

/** TINY_JOBS queued at once (one transaction), then timed from the worker's first look to the last `done`. */
async function throughWorker(url: string, sync: "full" | "normal") {
  const foreman = await startTestForeman({ target: url, sync });
  const q = foreman.services.queue;
  const ended = untilEnded(foreman, TINY_JOBS);
  const ids = q.atomically(() => Array.from({ length: TINY_JOBS }, (_, i) => q.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: body("llama3.2", i) }).id));
  const t = performance.now();
  foreman.services.worker.wake();
  await ended;
  const perSec = TINY_JOBS / ((performance.now() - t) / 1000);
  const states = [...new Set(ids.map((id) => q.get(id)!.status))];
  await foreman.stop();
  return { perSec, states };
}

async function overhead() {
  const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 1, maxLoaded: 1 });
  const runs = { direct: [] as number[], streamed: [] as number[], full: [] as number[], normal: [] as number[] };
  const states = new Set<string>();
  for (let r = 0; r < ROUNDS; r++) {
    runs.direct.push(await direct(sim.url, false));
    runs.streamed.push(await direct(sim.url, true));
    for (const sync of ["full", "normal"] as const) {
      const { perSec, states: s } = await throughWorker(sim.url, sync);
      runs[sync].push(perSec);
      s.forEach((x) => states.add(x));
    }
  }
  await sim.stop();
  return { ...runs, states: [...states] };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
/** "median (min–max)" of a few rounds. */
const spread = (xs: number[]) => `${fmt(median(xs), 0)} (${fmt(Math.min(...xs), 0)}–${fmt(Math.max(...xs), 0)})`;

/** The scheduler's decision (queue heads + the pure choice) with a million queued jobs. */
async function decisionWithMillion() {
  const foreman = await startTestForeman({ target: "http://127.0.0.1:9", pollIntervalMs: 3_600_000 });
  const db = foreman.services.store.db;
  const insert = db.query(`INSERT INTO jobs (id, lane, endpoint, model, model_key, drain_key, priority, status, request, created_at, queued_at, updated_at) VALUES (?1, 1, '/api/chat', ?2, ?3, ?3, ?4, 'queued', '{}', ?5, ?6, ?7)`);
  const N = 1_000_000;
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const model = MODELS[i % MODELS.length]!;
      insert.run(`bench${i}`, model, `${model}:latest`, i % 7 === 0 ? 1 : 0, i, i, i);
    }
  })();
  const { queue } = foreman.services;
  const rounds = 2000;
  const t = performance.now();
  for (let i = 0; i < rounds; i++) chooseNext(queue.heads(), { resident: ["mistral:latest"], now: N, agingCapMs: 600_000 });
  const perDecisionMs = (performance.now() - t) / rounds;
  await foreman.stop();
  return { queued: N, perDecisionMs };
}

const m = await mixed();
const o = await overhead();
const d = await decisionWithMillion();
await writeSection(
  "Engine",
  `Command: \`bun bench/engine.ts\` (${machine()}).

### Drain-by-model vs FIFO
${MIXED_JOBS} chat jobs interleaved over ${MODELS.length} models (round-robin submission, queued at once), simulator with one resident model, ${LOAD_MS} ms load, ${TOKENS} tokens at ${TOKEN_MS} ms.

| run | makespan | model loads |
|---|---|---|
| plain FIFO, direct to the target | ${fmt(m.fifo.makespan / 1000, 2)} s | ${m.fifo.loads} |
| foreman (drain-by-model) | ${fmt(m.drained.makespan / 1000, 2)} s | ${m.drained.loads} |
| ideal (work + one load per model) | ${fmt(m.ideal / 1000, 2)} s | ${MODELS.length} |

foreman's makespan is ${fmt((m.drained.makespan / m.ideal - 1) * 100)} % above the ideal (target: within 5 %) and ${fmt(m.fifo.makespan / m.drained.makespan, 2)}× faster than FIFO. One job with its model resident takes ${fmt(m.perJob)} ms.

### Worker overhead
${TINY_JOBS} tiny jobs (1 token, zero-latency simulator in the same process), queued at once, then timed from the worker's first look to the last \`done\`: each goes queued → working → done with its events committed to SQLite and heard by a listener (which hears of a state only once it is on disk). Median of ${ROUNDS} alternated rounds, (min–max).

| run | jobs/s | of direct |
|---|---|---|
| the same requests sent directly, one at a time (\`stream: false\`) | ${spread(o.direct)} | 1 |
| the same, streamed as the worker asks for them (\`stream: true\`) | ${spread(o.streamed)} | ${fmt(median(o.streamed) / median(o.direct), 2)} |
| through foreman, full sync (default) | ${spread(o.full)} | ${fmt(median(o.full) / median(o.direct), 2)} |
| through foreman, \`FOREMAN_SYNC=normal\` | ${spread(o.normal)} | ${fmt(median(o.normal) / median(o.direct), 2)} |

Added per job with full sync: ${fmt((1 / median(o.full) - 1 / median(o.direct)) * 1e6, 0)} µs. Target: ≥ 3,000 jobs/s with full sync. Final states: ${o.states.join(", ")}.

Full sync costs the worker about nothing: its commits are deferred and foreman fsyncs the WAL off the event loop, one fsync covering every commit before it (ADR 0016). What a job still costs is mostly SQLite's own work — one commit per job (the end of one and the start of the next) writing about a dozen pages, and the index seeks that choose the next job — and the HTTP exchange with the target.

### Choosing the next job with a million queued
${d.queued.toLocaleString("en")} queued jobs over ${MODELS.length} models: reading the queue heads (index seeks, nothing loaded into memory) and the drain-by-model choice take ${fmt(d.perDecisionMs * 1000, 1)} µs per decision (average of 2,000). Target: sub-millisecond.`,
);
