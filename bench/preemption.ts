// Interactive work behind long batch jobs: a backlog of long async jobs on one model while
// passthrough requests arrive at seeded-random moments, half for the same model and half for
// another. Interactive time to first byte and the batch's makespan, for plain FIFO straight to
// the target, foreman without preemption, and foreman preempting after a few thresholds; at a
// few arrival rates. The scenarios of one rate run side by side (each its own simulator and
// foreman, the same arrivals), so the whole benchmark takes a few minutes. Run: bun bench/preemption.ts
import { isTerminal } from "../src/contract/states.ts";
import { startSimulator, type Simulator } from "../src/sim/index.ts";
import { prng } from "../src/sim/output.ts";
import { startTestForeman, type TestForeman } from "../test/harness.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const BATCH_MODEL = "llama3.2";
const OTHER_MODEL = "mistral";
const BACKLOG = 5;
const TOKEN_MS = 50;
/** One batch job: 200 tokens, 50 ms apart — 10 s on the target. */
const BATCH_TOKENS = 200;
const INTERACTIVE_TOKENS = 8;
const LOAD_MS = 1000;
/** Interactive requests arrive within this window from the start (about the backlog's length). */
const WINDOW_MS = BACKLOG * BATCH_TOKENS * TOKEN_MS;
/** Mean gap between interactive arrivals. */
const RATES_MS = [20_000, 10_000, 5_000];
const SEED = 16;

export interface Scenario {
  name: string;
  /** undefined: plain FIFO, straight to the target; a number: foreman with that FOREMAN_PREEMPT_AFTER_MS (0 = off). */
  preemptAfterMs?: number;
}

const SCENARIOS: Scenario[] = [{ name: "plain FIFO, direct to the target" }, { name: "foreman, no preemption", preemptAfterMs: 0 }];

interface Arrival {
  at: number;
  model: string;
}

/** Poisson arrivals (exponential gaps of mean `meanGapMs`) in the window, each for the batch's model or the other one. */
function arrivals(meanGapMs: number, seed: number): Arrival[] {
  const next = prng(seed);
  const out: Arrival[] = [];
  for (let at = -Math.log(1 - next()) * meanGapMs; at < WINDOW_MS; at += -Math.log(1 - next()) * meanGapMs) {
    out.push({ at, model: next() < 0.5 ? BATCH_MODEL : OTHER_MODEL });
  }
  return out;
}

const batchBody = (i: number) => ({ model: BATCH_MODEL, messages: [{ role: "user", content: `report ${i}` }], options: { num_predict: BATCH_TOKENS } });
const chatBody = (a: Arrival, i: number) => JSON.stringify({ model: a.model, messages: [{ role: "user", content: `quick question ${i}` }], options: { num_predict: INTERACTIVE_TOKENS } });

/** Sends a streamed chat and returns the time to its first body byte (ms); reads the rest. */
async function timeToFirstByte(base: string, body: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${base}/api/chat`, { method: "POST", body });
  const reader = res.body!.getReader();
  const first = await reader.read();
  const ttfb = performance.now() - t;
  if (res.status !== 200 || first.done) throw new Error(`interactive request answered ${res.status}`);
  while (!(await reader.read()).done);
  return ttfb;
}

/** Sends each interactive request at its moment; resolves with their times to first byte. */
function interactive(base: string, list: Arrival[], start: number): Promise<number[]> {
  return Promise.all(
    list.map(async (a, i) => {
      await Bun.sleep(Math.max(0, start + a.at - performance.now()));
      return timeToFirstByte(base, chatBody(a, i));
    }),
  );
}

export interface Result {
  ttfb: number[];
  makespanMs: number;
  loads: number;
  preemptions: number;
  discardedSeconds: number;
}

const simulator = () => startSimulator({ tokenDelayMs: TOKEN_MS, loadMs: LOAD_MS, responseTokens: INTERACTIVE_TOKENS, maxLoaded: 1 });

/** The batch one request at a time in submission order, interactive requests straight to the target as they come. */
async function fifo(list: Arrival[]): Promise<Result> {
  const sim = await simulator();
  const start = performance.now();
  const waiting = interactive(sim.url, list, start);
  for (let i = 0; i < BACKLOG; i++) await (await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...batchBody(i), stream: false }) })).text();
  const makespanMs = performance.now() - start;
  const ttfb = await waiting;
  const result = { ttfb, makespanMs, loads: sim.counters.loads, preemptions: 0, discardedSeconds: 0 };
  await sim.stop();
  return result;
}

/** Resolves when `count` async jobs have ended, from the after-commit notifications. */
function batchEnded(f: TestForeman, count: number): Promise<number> {
  const { promise, resolve } = Promise.withResolvers<number>();
  let ended = 0;
  const stop = f.services.watch.subscribe(null, (job) => {
    if (job.lane === 1 && isTerminal(job.status) && ++ended === count) {
      stop();
      resolve(performance.now());
    }
  });
  return promise;
}

async function throughForeman(list: Arrival[], _scenario: Scenario, sim: Simulator): Promise<Result> {
  const foreman = await startTestForeman({ target: sim.url });
  const ended = batchEnded(foreman, BACKLOG);
  const start = performance.now();
  await Promise.all(Array.from({ length: BACKLOG }, (_, i) => fetch(`${foreman.url}/jobs`, { method: "POST", body: JSON.stringify({ request: batchBody(i) }) }).then((r) => r.text())));
  const ttfb = await interactive(foreman.url, list, start);
  const makespanMs = (await ended) - start;
  const stats = foreman.services.worker.stats as { preemptions?: number; discardedMs?: number };
  const result = { ttfb, makespanMs, loads: sim.counters.loads, preemptions: stats.preemptions ?? 0, discardedSeconds: (stats.discardedMs ?? 0) / 1000 };
  await foreman.stop();
  return result;
}

async function run(list: Arrival[], scenario: Scenario): Promise<Result> {
  if (scenario.preemptAfterMs === undefined) return fifo(list);
  const sim = await simulator();
  try {
    return await throughForeman(list, scenario, sim);
  } finally {
    await sim.stop();
  }
}

const s = (ms: number) => `${fmt(ms / 1000, 2)} s`;

function row(scenario: Scenario, r: Result, baseline: Result): string {
  const sorted = [...r.ttfb].sort((a, b) => a - b);
  const cost = (r.makespanMs / baseline.makespanMs - 1) * 100;
  return `| ${scenario.name} | ${r.ttfb.length} | ${s(percentile(sorted, 50))} | ${s(percentile(sorted, 95))} | ${s(sorted.at(-1) ?? NaN)} | ${s(r.makespanMs)} (${cost >= 0 ? "+" : ""}${fmt(cost)} %) | ${r.loads} | ${r.preemptions} | ${fmt(r.discardedSeconds)} s |`;
}

const sections: string[] = [];
for (const [i, gap] of RATES_MS.entries()) {
  const list = arrivals(gap, SEED + i);
  const results = await Promise.all(SCENARIOS.map((scenario) => run(list, scenario)));
  const baseline = results[1]!;
  const per = list.filter((a) => a.model === BATCH_MODEL).length;
  sections.push(`### One interactive request every ${gap / 1000} s on average (${list.length}: ${per} for the batch's model, ${list.length - per} for another)

| run | requests | TTFB p50 | TTFB p95 | TTFB max | batch makespan (vs no preemption) | model loads | preemptions | generation discarded |
|---|---|---|---|---|---|---|---|---|
${SCENARIOS.map((scenario, j) => row(scenario, results[j]!, baseline)).join("\n")}`);
  console.log(sections.at(-1));
}

await writeSection(
  "Preemption",
  `Command: \`bun bench/preemption.ts\` (${machine()}). A backlog of ${BACKLOG} async chat jobs on ${BATCH_MODEL}, each generating ${BATCH_TOKENS} tokens ${TOKEN_MS} ms apart (${s(BATCH_TOKENS * TOKEN_MS)} on the target), queued at once; meanwhile streamed /api/chat requests of ${INTERACTIVE_TOKENS} tokens arrive at seeded-random moments (Poisson, seed ${SEED}) in the first ${s(WINDOW_MS)}, each for ${BATCH_MODEL} or ${OTHER_MODEL} by a coin toss. The simulator holds one model at a time (a Mac with room for one) and takes ${s(LOAD_MS)} to load one. TTFB is from sending an interactive request to its first body byte; the makespan is from queueing the backlog to its last job's end. The scenarios of one rate run side by side in one process, each with its own simulator and the same arrivals.

${sections.join("\n\n")}`,
);
