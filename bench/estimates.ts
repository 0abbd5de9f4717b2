// Estimates benchmark (ADR 0038): (1) what a forecast costs with 100,000 jobs queued, against
// the scheduler's own decision and the position count a job view paid before, in the same run;
// (2) how right the estimates are: a mixed backlog over three models with random output lengths
// on the simulator, each job's estimated start and finish against when it really started and
// ended, as a fraction of its true wait — and, as the baseline, the same errors for a naive
// estimate (arrival order, every job the mean duration). Run: bun bench/estimates.ts
import { chooseNext } from "../src/engine/scheduler.ts";
import { ASYNC } from "../src/queue/queue.ts";
import { jobView, type Job } from "../src/queue/view.ts";
import { startSimulator } from "../src/sim/index.ts";
import { seededRandom, startTestForeman } from "../test/harness.ts";
import { fmt, machine, percentile, untilEnded, writeSection } from "./report.ts";

const MODELS = ["llama3.2", "mistral", "qwen2.5:0.5b"];
const QUEUED = 100_000;
const HISTORY = 1_000;
const ROUNDS = 30;

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Milliseconds per call of `fn`, over `rounds` calls. */
function timed(rounds: number, fn: () => unknown): number {
  const t = performance.now();
  for (let i = 0; i < rounds; i++) fn();
  return (performance.now() - t) / rounds;
}

async function cost() {
  const foreman = await startTestForeman({ target: "http://127.0.0.1:9", pollIntervalMs: 3_600_000 });
  const { store, queue, estimates } = foreman.services;
  const db = store.db;
  const insert = db.query(
    `INSERT INTO jobs (id, lane, endpoint, model, model_key, drain_key, priority, status, request, created_at, queued_at, updated_at, finished_at, timings, progress_tokens)
     VALUES (?1, 1, '/api/chat', ?2, ?3, ?3, ?4, ?5, '{}', ?6, ?6, ?6, ?7, ?8, ?9)`,
  );
  const now = Date.now();
  db.transaction(() => {
    // the history the rates are learnt from, then the backlog
    for (let i = 0; i < HISTORY; i++) {
      const model = MODELS[i % MODELS.length]!;
      const timings = JSON.stringify(i % 10 === 0 ? { loadMs: 900, ttftMs: 900, totalMs: 3000 } : { ttftMs: 40, totalMs: 2000 });
      insert.run(`done${i}`, model, `${model}:latest`, 0, "done", now - 1e7 + i, now - 1e7 + i + 1, timings, 100);
    }
    for (let i = 0; i < QUEUED; i++) {
      const model = MODELS[i % MODELS.length]!;
      insert.run(`bench${i}`, model, `${model}:latest`, i % 7 === 0 ? 1 : 0, "queued", now - QUEUED + i, null, null, 0);
    }
  })();
  const decisionMs = timed(2000, () => chooseNext(queue.heads(), { resident: ["mistral:latest"], now, agingCapMs: 600_000 }));
  // a forecast made anew each time, as after every change of the queue
  const forecastMs = timed(ROUNDS, () => estimates.forecast(true));
  // a job halfway through the forecast, and one far behind it
  const inHorizon = queue.get([...estimates.forecast().keys()][500]!)!;
  const last = queue.get(`bench${QUEUED - 1}`)!;
  const cachedViewMs = timed(2000, () => jobView(inHorizon, estimates));
  const positionCountMs = timed(ROUNDS, () => queue.position(last));
  const view = jobView(inHorizon, estimates);
  if (view.eta === null) throw new Error(`the job at position ${view.queue_position} has no eta: ${view.eta_reason}`);
  await foreman.stop();
  return { decisionMs, forecastMs, cachedViewMs, positionCountMs, samplePosition: view.queue_position };
}

const TOKEN_MS = 4;
const LOADS_MS = [400, 800, 1200];
const WARMUP_PER_MODEL = 8;
const BACKLOG = 60;
const LENGTH = { min: 20, max: 200 };

async function accuracy() {
  const random = seededRandom("estimates accuracy", 20);
  const sim = await startSimulator({ tokenDelayMs: TOKEN_MS, maxLoaded: 1, models: MODELS.map((name, i) => ({ name, loadMs: LOADS_MS[i] })) });
  const foreman = await startTestForeman({ target: sim.url });
  const { queue, worker, estimates } = foreman.services;
  const job = (model: string, i: number) => ({
    lane: ASYNC,
    endpoint: "/api/chat",
    model,
    priority: random() < 0.2 ? 1 : 0,
    request: JSON.stringify({ model, messages: [{ role: "user", content: `question ${i}` }], options: { num_predict: LENGTH.min + Math.floor(random() * (LENGTH.max - LENGTH.min)) } }),
  });
  // history: a few jobs of each model, interleaved so that loads are measured too
  const warm = Array.from({ length: WARMUP_PER_MODEL * MODELS.length }, (_, i) => MODELS[i % MODELS.length]!);
  let ended = untilEnded(foreman, warm.length);
  for (const [i, model] of warm.entries()) queue.enqueue(job(model, i));
  worker.wake();
  await ended;
  // the naive baseline: arrival order, every job the mean duration of the history
  const meanMs = mean(queue.finishedSamples(1000).map((s) => s.totalMs));
  // the backlog, queued at once; estimated the moment it is queued, before the worker looks
  ended = untilEnded(foreman, BACKLOG);
  const ids = queue.atomically(() => Array.from({ length: BACKLOG }, (_, i) => queue.enqueue(job(MODELS[Math.floor(random() * MODELS.length)]!, i)).id));
  const t0 = Date.now();
  const estimated = ids.map((id) => jobView(queue.get(id)!, estimates));
  worker.wake();
  await ended;
  const ran = ids.map((id) => jobView(queue.get(id)!));
  await foreman.stop();
  await sim.stop();
  return { ...errors(estimated, ran, t0, meanMs), meanMs };
}

/** |estimate − truth| / true wait, for start and finish, of the forecast and of the naive estimate. */
function errors(estimated: Job[], ran: Job[], t0: number, meanMs: number) {
  const out = { start: [] as number[], finish: [] as number[], naiveStart: [] as number[], naiveFinish: [] as number[], unestimated: 0 };
  for (const [i, e] of estimated.entries()) {
    const r = ran[i]!;
    if (e.eta === null || r.status !== "done") {
      out.unestimated++;
      continue;
    }
    const start = Date.parse(r.started_at!) - t0;
    const finish = Date.parse(r.finished_at!) - t0;
    // the first job's true wait to start is about nothing: its fraction is not defined
    if (e.queue_position! > 0) {
      out.start.push(Math.abs(Date.parse(e.eta.start_at) - t0 - start) / start);
      out.naiveStart.push(Math.abs(i * meanMs - start) / start);
    }
    out.finish.push(Math.abs(Date.parse(e.eta.finish_at) - t0 - finish) / finish);
    out.naiveFinish.push(Math.abs((i + 1) * meanMs - finish) / finish);
  }
  for (const list of [out.start, out.finish, out.naiveStart, out.naiveFinish]) list.sort((a, b) => a - b);
  return out;
}

const pct = (x: number) => `${fmt(100 * x, 0)} %`;
const row = (name: string, xs: number[]) => `| ${name} | ${pct(percentile(xs, 50))} | ${pct(percentile(xs, 90))} |`;

const c = await cost();
const a = await accuracy();
await writeSection(
  "Estimates",
  `Command: \`bun bench/estimates.ts\` (${machine()}).

### Cost with ${QUEUED.toLocaleString("en")} queued
${QUEUED.toLocaleString("en")} queued jobs over ${MODELS.length} models and ${HISTORY.toLocaleString("en")} finished ones; the forecast covers the first 1,000 in the scheduler's order.

| what | time |
| --- | --- |
| the scheduler's decision (queue heads + choice), the baseline | ${fmt(c.decisionMs * 1000, 1)} µs |
| a forecast made anew (after a queue change): reads, rates, simulation | ${fmt(c.forecastMs, 1)} ms |
| a job view from the cached forecast (position ${c.samplePosition}, with an eta) | ${fmt(c.cachedViewMs * 1000, 1)} µs |
| the position count past the horizon (what every queued job view paid before) | ${fmt(c.positionCountMs, 1)} ms |

The worker never waits for a forecast: it is made only when a job view asks, at most once per
queue change and otherwise once a second.

### Accuracy
${BACKLOG} chat jobs queued at once over ${MODELS.length} models (loads ${LOADS_MS.join(" / ")} ms, one model resident, ${TOKEN_MS} ms per token, ${LENGTH.min}–${LENGTH.max} tokens each at random, 20 % at a higher priority), after ${WARMUP_PER_MODEL} finished jobs per model. Error: |estimate − truth| / the true wait from the moment of the estimate${a.unestimated ? `; ${a.unestimated} jobs had no estimate` : ""}. Target: median ≤ 20 %, p90 ≤ 50 %.

| estimate | median | p90 |
| --- | --- | --- |
${row("start_at", a.start)}
${row("finish_at", a.finish)}
${row("naive start (arrival order × mean duration), baseline", a.naiveStart)}
${row("naive finish, baseline", a.naiveFinish)}
`,
);
