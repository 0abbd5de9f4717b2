// Interactive work behind long batch jobs (ADR 0020): a backlog of long async jobs on one model
// while passthrough requests arrive at seeded-random moments, half for the same model and half
// for another. Interactive time to first byte and the batch's makespan, for plain FIFO straight to
// the target, foreman without preemption, and foreman preempting after a few thresholds; at a few
// arrival rates, and with jobs twice as long. Then the drain key (ADR 0021): a backlog over two
// models × two num_ctx values, FIFO vs grouping by model alone vs by the drain key.
//
// Every run has its own simulator and foreman; all the runs of the preemption part go side by
// side in this one process (they mostly wait on the simulators' token timers), so the benchmark
// takes about four minutes; the event loop's lag is measured meanwhile and reported.
// Run: bun bench/preemption.ts
import { isTerminal } from "../src/contract/states.ts";
import { options } from "../src/config.ts";
import { ASYNC } from "../src/queue/queue.ts";
import { startSimulator } from "../src/sim/index.ts";
import { prng } from "../src/sim/output.ts";
import { startTestForeman, type TestForeman } from "../test/harness.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

// Bun's fetch sends at most 256 requests at once (BUN_CONFIG_MAX_HTTP_REQUESTS) and queues the
// rest, which would hold foreman's liveness probes back until they time out; the runs side by side
// need more, so the benchmark starts itself again with a higher limit.
if (process.env.BUN_CONFIG_MAX_HTTP_REQUESTS === undefined) {
  const again = Bun.spawn([process.execPath, import.meta.path], { env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: "8192" }, stdio: ["inherit", "inherit", "inherit"] });
  process.exit(await again.exited);
}

const BATCH_MODEL = "llama3.2";
const OTHER_MODEL = "mistral";
const BACKLOG = 5;
const TOKEN_MS = 50;
/** One batch job: 200 tokens, 50 ms apart — 10 s on the target. */
const BATCH_TOKENS = 200;
const INTERACTIVE_TOKENS = 8;
const LOAD_MS = 1000;
/** Mean gaps between interactive arrivals. */
const GAPS_MS = [20_000, 10_000, 5_000];
/** Each case runs with this many seeds; their requests are pooled. */
const REPEATS = 8;
const SEED = 16;
/** FOREMAN_PREEMPT_AFTER_MS settings measured; the default (ADR 0020) among them. */
const THRESHOLDS_MS = [500, 2000, 5000];
const DEFAULT_MS = Number(options.preemptAfterMs.default);
const DEFAULT_MAX = Number(options.preemptMax.default);

interface Scenario {
  name: string;
  /** undefined: plain FIFO, straight to the target; a number: foreman with that FOREMAN_PREEMPT_AFTER_MS (0 = off). */
  preemptAfterMs?: number;
  /** FOREMAN_PREEMPT_MAX when not the default. */
  preemptMax?: number;
}

const fifo: Scenario = { name: "plain FIFO, direct to the target" };
const off: Scenario = { name: "foreman, no preemption (before)", preemptAfterMs: 0 };
const preempting = (ms: number, preemptMax?: number): Scenario => ({
  name: `foreman, preempt after ${fmt(ms / 1000, 1)} s, at most ${preemptMax ?? DEFAULT_MAX} times a job${ms === DEFAULT_MS && preemptMax === undefined ? " (the defaults)" : ""}`,
  preemptAfterMs: ms,
  ...(preemptMax === undefined ? {} : { preemptMax }),
});

interface Case {
  title: string;
  gapMs: number;
  backlog: number;
  batchTokens: number;
  scenarios: Scenario[];
}

const CASES: Case[] = [
  ...GAPS_MS.map((gapMs) => ({ title: `10 s jobs, one request every ${gapMs / 1000} s on average`, gapMs, backlog: BACKLOG, batchTokens: BATCH_TOKENS, scenarios: [fifo, off, ...THRESHOLDS_MS.map((ms) => preempting(ms))] })),
  { title: "20 s jobs, one request every 20 s on average", gapMs: 20_000, backlog: BACKLOG, batchTokens: 2 * BATCH_TOKENS, scenarios: [fifo, off, preempting(DEFAULT_MS)] },
  { title: "20 s jobs, one request every 10 s on average", gapMs: 10_000, backlog: BACKLOG, batchTokens: 2 * BATCH_TOKENS, scenarios: [off, preempting(DEFAULT_MS), preempting(DEFAULT_MS, 3)] },
  { title: "1 s jobs, one request every 5 s on average", gapMs: 5_000, backlog: 10 * BACKLOG, batchTokens: BATCH_TOKENS / 10, scenarios: [off, ...THRESHOLDS_MS.slice(0, 2).map((ms) => preempting(ms))] },
];

interface Arrival {
  at: number;
  model: string;
}

/** Poisson arrivals (exponential gaps of mean `gapMs`) over the backlog's length, each for the batch's model or the other one. */
function arrivals(gapMs: number, windowMs: number, seed: number): Arrival[] {
  const next = prng(seed);
  const out: Arrival[] = [];
  for (let at = -Math.log(1 - next()) * gapMs; at < windowMs; at += -Math.log(1 - next()) * gapMs) out.push({ at, model: next() < 0.5 ? BATCH_MODEL : OTHER_MODEL });
  return out;
}

const batchBody = (i: number, tokens: number) => ({ model: BATCH_MODEL, messages: [{ role: "user", content: `report ${i}` }], options: { num_predict: tokens } });
const chatBody = (a: Arrival, i: number) => JSON.stringify({ model: a.model, messages: [{ role: "user", content: `quick question ${i}` }], options: { num_predict: INTERACTIVE_TOKENS } });

/** One interactive request: when it was sent, its time to first byte, and when its reply ended (ms from the start). */
interface Timed {
  sentAt: number;
  ttfb: number;
  endedAt: number;
}

/** Sends a streamed chat and reads it to its end. */
async function timed(base: string, body: string, start: number): Promise<Timed> {
  const t = performance.now();
  const res = await fetch(`${base}/api/chat`, { method: "POST", body });
  const reader = res.body!.getReader();
  const first = await reader.read();
  const ttfb = performance.now() - t;
  if (res.status !== 200 || first.done) throw new Error(`an interactive request was answered ${res.status}`);
  while (!(await reader.read()).done);
  return { sentAt: t - start, ttfb, endedAt: performance.now() - start };
}

/** Sends each interactive request at its moment. */
function interactive(base: string, list: Arrival[], start: number): Promise<Timed[]> {
  return Promise.all(
    list.map(async (a, i) => {
      await Bun.sleep(Math.max(0, start + a.at - performance.now()));
      return timed(base, chatBody(a, i), start);
    }),
  );
}

/**
 * The requests that arrived while no other interactive request was in flight: a request that
 * comes while another one waits or runs waits for it too (its load, its answer), whatever is
 * done about batch work, so the bound on the wait behind batch jobs is read on these.
 */
const alone = (requests: Timed[]): Timed[] => requests.filter((r) => !requests.some((o) => o !== r && o.sentAt <= r.sentAt && o.endedAt > r.sentAt));

interface Result {
  /** Each seed's requests, kept apart: whether a request came alone is a matter of its own run. */
  requests: Timed[][];
  makespanMs: number;
  loads: number;
  preemptions: number;
  discardedMs: number;
}

/** A run set up and waiting for the start signal: everything starts before anything is measured. */
interface Prepared {
  go(): Promise<Result>;
  stop(): Promise<void>;
}

const simulator = () => startSimulator({ tokenDelayMs: TOKEN_MS, loadMs: LOAD_MS, responseTokens: INTERACTIVE_TOKENS, maxLoaded: 1 });

/** Resolves with the moment `count` async jobs have ended, from the after-commit notifications. */
function batchEnded(f: TestForeman, count: number): Promise<number> {
  const { promise, resolve } = Promise.withResolvers<number>();
  let ended = 0;
  const stop = f.services.watch.subscribe(null, (job) => {
    if (job.lane === ASYNC && isTerminal(job.status) && ++ended === count) {
      stop();
      resolve(performance.now());
    }
  });
  return promise;
}

async function prepare(c: Case, list: Arrival[], scenario: Scenario): Promise<Prepared> {
  const sim = await simulator();
  if (scenario.preemptAfterMs === undefined) {
    // the batch one request at a time in submission order, interactive requests straight to the target as they come
    return {
      async go() {
        const start = performance.now();
        const waiting = interactive(sim.url, list, start);
        for (let i = 0; i < c.backlog; i++) await (await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...batchBody(i, c.batchTokens), stream: false }) })).text();
        const makespanMs = performance.now() - start;
        return { requests: [await waiting], makespanMs, loads: sim.counters.loads, preemptions: 0, discardedMs: 0 };
      },
      stop: () => sim.stop(),
    };
  }
  const foreman = await startTestForeman({ target: sim.url, preemptAfterMs: scenario.preemptAfterMs, ...(scenario.preemptMax === undefined ? {} : { preemptMax: scenario.preemptMax }) });
  return {
    async go() {
      const ended = batchEnded(foreman, c.backlog);
      const start = performance.now();
      await Promise.all(Array.from({ length: c.backlog }, (_, i) => fetch(`${foreman.url}/jobs`, { method: "POST", body: JSON.stringify({ request: batchBody(i, c.batchTokens) }) }).then((r) => r.text())));
      const requests = await interactive(foreman.url, list, start);
      const makespanMs = (await ended) - start;
      const { preemptions, discardedMs } = foreman.services.worker.stats;
      return { requests: [requests], makespanMs, loads: sim.counters.loads, preemptions, discardedMs };
    },
    async stop() {
      await foreman.stop();
      await sim.stop();
    },
  };
}

/** The runs of several seeds, pooled: every request's TTFB, the mean makespan, the totals. */
function pool(results: Result[]): Result {
  const sum = (f: (r: Result) => number) => results.reduce((n, r) => n + f(r), 0);
  return { requests: results.flatMap((r) => r.requests), makespanMs: sum((r) => r.makespanMs) / results.length, loads: sum((r) => r.loads), preemptions: sum((r) => r.preemptions), discardedMs: sum((r) => r.discardedMs) };
}

const s = (ms: number) => `${fmt(ms / 1000, 2)} s`;
/** The bound the issue sets for the interactive p95: the threshold, one model load, one token. */
const boundMs = (scenario: Scenario) => (scenario.preemptAfterMs ? scenario.preemptAfterMs + LOAD_MS + TOKEN_MS : undefined);

const sortedTtfb = (requests: Timed[]) => requests.map((r) => r.ttfb).sort((a, b) => a - b);

function row(scenario: Scenario, r: Result, baseline: Result | undefined): string {
  const all = sortedTtfb(r.requests.flat());
  const lone = sortedTtfb(r.requests.flatMap(alone));
  const p95 = percentile(lone, 95);
  const bound = boundMs(scenario);
  const withinBound = bound === undefined ? "" : ` ${p95 <= bound ? "≤" : ">"} ${s(bound)}`;
  const cost = baseline ? (r.makespanMs / baseline.makespanMs - 1) * 100 : 0;
  return `| ${scenario.name} | ${s(percentile(all, 50))} | ${s(percentile(all, 95))} | ${s(all.at(-1) ?? NaN)} | ${s(p95)}${withinBound} | ${s(r.makespanMs)} (${cost >= 0 ? "+" : ""}${fmt(cost)} %) | ${r.loads} | ${r.preemptions} | ${fmt(r.discardedMs / 1000)} s |`;
}

/** Measures how late the event loop runs a 20 ms timer while `work` runs: its worst lag (ms). */
async function withLag<T>(work: () => Promise<T>): Promise<{ value: T; lagMs: number }> {
  let worst = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 20);
    last = now;
  }, 20);
  try {
    return { value: await work(), lagMs: worst };
  } finally {
    clearInterval(timer);
  }
}

async function preemptionCases(): Promise<{ text: string; summary: string; lagMs: number; runs: number }> {
  const plans = CASES.map((c, ci) => {
    const windowMs = c.backlog * c.batchTokens * TOKEN_MS;
    return { c, lists: Array.from({ length: REPEATS }, (_, r) => arrivals(c.gapMs, windowMs, SEED + 100 * ci + r)) };
  });
  // set every run up first (simulators, foremen, databases), then start them all at once
  const prepared: Prepared[][][] = [];
  for (const { c, lists } of plans) {
    const bySetting: Prepared[][] = [];
    for (const scenario of c.scenarios) {
      const runs: Prepared[] = [];
      for (const list of lists) runs.push(await prepare(c, list, scenario));
      bySetting.push(runs);
    }
    prepared.push(bySetting);
  }
  const { value: results, lagMs } = await withLag(() => Promise.all(prepared.map((bySetting) => Promise.all(bySetting.map(async (runs) => pool(await Promise.all(runs.map((r) => r.go()))))))));
  for (const r of prepared.flat(2)) await r.stop();
  const text = plans.map(({ c, lists }, ci) => {
    const all = lists.flat();
    const same = all.filter((a) => a.model === BATCH_MODEL).length;
    const baselineAt = c.scenarios.indexOf(off);
    const baseline = baselineAt === -1 ? undefined : results[ci]![baselineAt];
    const lone = (baseline ?? results[ci]![0]!).requests.flatMap(alone).length;
    return `### ${c.title[0]!.toUpperCase()}${c.title.slice(1)}
${c.backlog} jobs; ${all.length} interactive requests over ${REPEATS} seeds (${same} for ${BATCH_MODEL}, ${all.length - same} for ${OTHER_MODEL}), ${lone} of them alone (no other interactive request in flight when they came, in the run without preemption); the makespan is the mean of the seeds, loads, preemptions and discarded generation their sum.

| run | TTFB p50 | TTFB p95 | TTFB max | p95 of requests that came alone (bound: threshold + load + token) | batch makespan (vs no preemption) | model loads | preemptions | generation discarded |
|---|---|---|---|---|---|---|---|---|
${c.scenarios.map((scenario, j) => row(scenario, results[ci]![j]!, baseline)).join("\n")}`;
  });
  // the defaults in every case: is the bound met, and what does the batch pay
  const atDefaults = plans.flatMap(({ c }, ci) => {
    const j = c.scenarios.findIndex((x) => x.preemptAfterMs === DEFAULT_MS && x.preemptMax === undefined);
    const base = c.scenarios.indexOf(off);
    if (j === -1 || base === -1) return [];
    const r = results[ci]![j]!;
    const within = percentile(sortedTtfb(r.requests.flatMap(alone)), 95) <= boundMs(c.scenarios[j]!)!;
    return [{ within, cost: (r.makespanMs / results[ci]![base]!.makespanMs - 1) * 100 }];
  });
  const costs = atDefaults.map((d) => d.cost);
  const summary = `With the defaults the p95 of the requests that came alone is within the bound in ${atDefaults.filter((d) => d.within).length} of ${atDefaults.length} cases, whatever the jobs' length, and the batch's makespan grows by ${fmt(Math.min(...costs), 0)}–${fmt(Math.max(...costs), 0)} %: each preemption throws away what the job had generated and, for another model, costs two loads.`;
  return { text: text.join("\n\n"), summary, lagMs, runs: prepared.flat(2).length };
}

// The drain key: two models × two num_ctx values, submitted round-robin so that consecutive jobs
// of one model alternate their num_ctx.
const KEY_JOBS = 48;
const KEY_LOAD_MS = 150;
const KEY_TOKEN_MS = 2;
const KEY_TOKENS = 10;
const GROUPS = [
  { model: BATCH_MODEL, numCtx: 2048 },
  { model: OTHER_MODEL, numCtx: 2048 },
  { model: BATCH_MODEL, numCtx: 8192 },
  { model: OTHER_MODEL, numCtx: 8192 },
];
const keyBody = (i: number) => {
  const g = GROUPS[i % GROUPS.length]!;
  return { model: g.model, messages: [{ role: "user", content: `question ${i}` }], options: { num_ctx: g.numCtx } };
};

interface KeyResult {
  makespanMs: number;
  loads: number;
  swaps: number;
  reloads: number;
}

const keySimulator = () => startSimulator({ tokenDelayMs: KEY_TOKEN_MS, loadMs: KEY_LOAD_MS, responseTokens: KEY_TOKENS, maxLoaded: 1 });

async function keyFifo(): Promise<KeyResult & { perJobMs: number }> {
  const sim = await keySimulator();
  const t = performance.now();
  for (let i = 0; i < KEY_JOBS; i++) await (await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...keyBody(i), stream: false }) })).text();
  const result = { makespanMs: performance.now() - t, loads: sim.counters.loads, swaps: sim.counters.swaps, reloads: sim.counters.reloads };
  // one job with its runner resident, for the ideal
  const t2 = performance.now();
  for (let i = 0; i < 10; i++) await (await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...keyBody(KEY_JOBS - 1), stream: false }) })).text();
  await sim.stop();
  return { ...result, perJobMs: (performance.now() - t2) / 10 };
}

/** Queued at once through foreman's worker; `byModelOnly` groups by the model alone, as before the drain key (the requests still carry their num_ctx). */
async function keyForeman(byModelOnly: boolean): Promise<KeyResult> {
  const sim = await keySimulator();
  const foreman = await startTestForeman({ target: sim.url });
  const ended = batchEnded(foreman, KEY_JOBS);
  const q = foreman.services.queue;
  const t = performance.now();
  q.atomically(() => {
    for (let i = 0; i < KEY_JOBS; i++) {
      const body = keyBody(i);
      q.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: body.model, request: JSON.stringify(body), load: byModelOnly ? {} : { num_ctx: body.options.num_ctx } });
    }
  });
  foreman.services.worker.wake();
  const result = { makespanMs: (await ended) - t, loads: sim.counters.loads, swaps: sim.counters.swaps, reloads: sim.counters.reloads };
  await foreman.stop();
  await sim.stop();
  return result;
}

async function drainKeyCase(): Promise<string> {
  const f = await keyFifo();
  const byModel = await keyForeman(true);
  const byKey = await keyForeman(false);
  const ideal = KEY_JOBS * f.perJobMs + GROUPS.length * KEY_LOAD_MS;
  const line = (name: string, r: KeyResult) => `| ${name} | ${s(r.makespanMs)} | ${r.loads} | ${r.swaps} | ${r.reloads} |`;
  return `${KEY_JOBS} chat jobs over ${GROUPS.length} groups — ${BATCH_MODEL} and ${OTHER_MODEL}, each with \`num_ctx\` 2048 and 8192 — submitted round-robin (so consecutive jobs of one model alternate their \`num_ctx\`), queued at once; the simulator holds one model, reloads it when a load-time option changes (Ollama's needsReload), ${KEY_LOAD_MS} ms per load, ${KEY_TOKENS} tokens at ${KEY_TOKEN_MS} ms.

| run | makespan | loads | swaps | of which reloads |
|---|---|---|---|---|
${line("plain FIFO, direct to the target", f)}
${line("foreman, grouped by model only (before)", byModel)}
${line("foreman, grouped by drain key (model + load-time options)", byKey)}
| ideal (work + one load per group) | ${s(ideal)} | ${GROUPS.length} | ${GROUPS.length - 1} | |

Grouping by the drain key is ${fmt(byModel.makespanMs / byKey.makespanMs, 2)}× faster than grouping by model alone and ${fmt(f.makespanMs / byKey.makespanMs, 2)}× faster than FIFO; by model alone, every other job of a model reloads it, as FIFO does.`;
}

const cases = await preemptionCases();
const keys = await drainKeyCase();
await writeSection(
  "Preemption",
  `Command: \`bun bench/preemption.ts\` (${machine()}). A backlog of ${BACKLOG} async chat jobs on ${BATCH_MODEL}, each generating ${BATCH_TOKENS} tokens ${TOKEN_MS} ms apart (${s(BATCH_TOKENS * TOKEN_MS)} on the target), queued at once; meanwhile streamed /api/chat requests of ${INTERACTIVE_TOKENS} tokens arrive at seeded-random moments (Poisson) while the backlog lasts, each for ${BATCH_MODEL} or ${OTHER_MODEL} by a coin toss. The simulator holds one model at a time (a Mac with room for one) and takes ${s(LOAD_MS)} to load one. TTFB is from sending an interactive request to its first body byte; the makespan from queueing the backlog to its last job's end. Every run has its own simulator and foreman; all ${cases.runs} were set up first, then run side by side in one process, the event loop at most ${fmt(cases.lagMs, 0)} ms late meanwhile.

${cases.text}

${cases.summary} Requests that came while another interactive request was in flight wait for it as well (its load, its answer) — preemption cannot help there — which is where the overall p95 and the maxima above the bound come from, besides jobs at their preemption cap. Short jobs are not preempted at the default threshold: a 1 s job ends before a request has waited 2 s, so nothing is thrown away.

### The drain key
${keys}`,
);
