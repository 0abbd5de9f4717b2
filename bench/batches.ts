// Batch benchmark (issue 19, ADRs 0039 and 0040): a 50,000-line embeddings file and a 10,000-line
// chat file over three models, sent through the real `openai` client to foreman running in its own
// process (so its resident memory is its own, read from /proc) in front of the simulator in this
// one. Per file: the upload, the validation, the queueing, foreman's peak RSS in each and how long
// its event loop stopped answering. Then the makespan of both batches against the same lines sent
// one by one in file order straight to the simulator (FIFO) and against the ideal (the work plus
// the loads the scheduling rule predicts, `batch-plan.ts`); then interactive time to first byte
// while a batch runs, against the preemption bound.
// Run: bun bench/batches.ts   (BATCH_BENCH_SCALE=0.1 runs a tenth of the lines, for a quick look)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { options } from "../src/config.ts";
import { startSimulator, type Simulator } from "../src/sim/index.ts";
import { listeningUrl, tempDir } from "../test/harness.ts";
import { planBatches, type PlannedGroup } from "./batch-plan.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const SCALE = Number(process.env.BATCH_BENCH_SCALE ?? 1);
const EMBED_LINES = Math.round(50_000 * SCALE);
const CHAT_LINES = Math.round(10_000 * SCALE);
const EMBED_MODEL = "nomic-embed-text";
const EMBED_DIMENSIONS = 64;
/** The chat file alternates these line by line. */
const CHAT_MODELS = ["llama3.2", "qwen2.5:0.5b"];
/** Interactive requests for a model no batch uses. */
const OTHER_MODEL = "mistral";
const LOAD_MS = 300;
const TOKEN_MS = 1;
/** Tokens per chat line (max_tokens) and per interactive reply. */
const CHAT_TOKENS = 4;
/** FOREMAN_AGING_CAP_MS for the run: short enough that the rule forces switches within it. */
const AGING_CAP_MS = 60_000;
const DEFAULT_AGING_CAP_MS = Number(options.agingCapMs.default);
const PREEMPT_AFTER_MS = Number(options.preemptAfterMs.default);
/** FIFO runs over these prefixes (lines of each file), extrapolated linearly to the whole file. */
const FIFO_EMBED_PREFIX = Math.min(EMBED_LINES, 5_000);
const FIFO_CHAT_PREFIX = Math.min(CHAT_LINES, 60);
/** Lines timed with the model resident, for the ideal. */
const RESIDENT_SAMPLE = 300;
/** Interactive phase: a chat batch on one model, and requests sent one at a time while it runs. */
const INTERACTIVE_BATCH_LINES = 3_000;
const INTERACTIVE_REQUESTS = 30;
const INTERACTIVE_GAP_MS = 300;
/** How often foreman's memory is read, and how often it is asked something during a phase. */
const SAMPLE_MS = 10;
const PROBE_MS = 20;
/** The makespan run is cut here (foreman stopped with its batches running) when it has not ended: BATCH_BENCH_LIMIT_S, 0 for none. */
const MAKESPAN_LIMIT_MS = Number(process.env.BATCH_BENCH_LIMIT_S ?? 270) * 1000;
/** Lines ended are counted in windows of this length, to see whether a line's cost grows as the run goes on. */
const PROGRESS_WINDOW_MS = 30_000;
const MIB = 1024;

// --- the files --------------------------------------------------------------------------------

/** 64 dimensions, base64 (the `openai` client's default encoding): a 768-float JSON reply would make the simulator, not foreman, the cost. */
const embedLine = (i: number) =>
  JSON.stringify({ custom_id: `e-${i}`, method: "POST", url: "/v1/embeddings", body: { model: EMBED_MODEL, input: `passage ${i}: the quick brown fox jumps over the lazy dog, again and again, for the index`, dimensions: EMBED_DIMENSIONS, encoding_format: "base64" } });
const chatBody = (model: string, i: number) => ({ model, messages: [{ role: "system", content: "You answer in one short sentence." }, { role: "user", content: `question ${i}: what is the capital of country number ${i}?` }], max_tokens: CHAT_TOKENS });
const chatLine = (i: number, model = CHAT_MODELS[i % CHAT_MODELS.length]!) => JSON.stringify({ custom_id: `c-${i}`, method: "POST", url: "/v1/chat/completions", body: chatBody(model, i) });

/** A file of `n` lines; `invalid`: its last line repeats the first's custom_id, so validation reads every line and then fails. */
function jsonl(n: number, line: (i: number) => string, invalid = false): string {
  const lines = Array.from({ length: n }, (_, i) => line(i));
  if (invalid) lines[n - 1] = lines[n - 1]!.replace(/"custom_id":"[^"]*"/, JSON.stringify({ custom_id: JSON.parse(lines[0]!).custom_id }).slice(1, -1));
  return lines.join("\n") + "\n";
}

const sorted = (list: number[]) => [...list].sort((a, b) => a - b);

// --- foreman's memory, and its event loop ------------------------------------------------------

function status(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(/\s(\d+)\s/.exec(text.slice(text.indexOf(`${key}:`)))?.[1] ?? NaN);
  return { rss: kib("VmRSS") / MIB, hwm: kib("VmHWM") / MIB };
}

/** The peak of foreman's RSS while `work` runs: VmHWM reset at its start (clear_refs), and samples every SAMPLE_MS besides. */
async function peakDuring<T>(pid: number, work: () => Promise<T>): Promise<{ value: T; peakMiB: number; startMiB: number }> {
  let reset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    reset = false;
  }
  const startMiB = status(pid).rss;
  let peak = startMiB;
  const sampler = setInterval(() => (peak = Math.max(peak, status(pid).rss)), SAMPLE_MS);
  try {
    const value = await work();
    const end = status(pid);
    return { value, peakMiB: Math.max(peak, end.rss, reset ? end.hwm : 0), startMiB };
  } finally {
    clearInterval(sampler);
  }
}

/** Asks foreman `GET /healthz` one request at a time while `work` runs: the longest answer (ms), how long its event loop did not answer. */
async function stallDuring<T>(url: string, work: () => Promise<T>): Promise<{ value: T; stallMs: number }> {
  let done = false;
  let stallMs = 0;
  const probe = (async () => {
    while (!done) {
      const t = performance.now();
      await (await fetch(`${url}/healthz`)).arrayBuffer();
      stallMs = Math.max(stallMs, performance.now() - t);
      await Bun.sleep(PROBE_MS);
    }
  })();
  try {
    const value = await work();
    // the probe in flight when the work ended may be the one that waited longest
    done = true;
    await probe;
    return { value, stallMs };
  } finally {
    done = true;
  }
}

// --- the phases of one file -------------------------------------------------------------------

interface FilePhases {
  uploadS: number;
  uploadPeak: number;
  /** foreman's RSS as each phase began. */
  uploadFrom: number;
  validateFrom: number;
  bothFrom: number;
  validateS: number;
  validatePeak: number;
  validateStallMs: number;
  /** Validation and queueing of the valid file, from the create call's reply to its lines on the queue. */
  bothS: number;
  bothPeak: number;
  bothStallMs: number;
  batchId: string;
  queuedAt: number;
}

/** Polls the batch until `done` says so; returns the moment of the reply that did. */
async function until(url: string, id: string, done: (b: OpenAI.Batch) => boolean, everyMs: number): Promise<{ at: number; batch: OpenAI.Batch }> {
  for (;;) {
    const batch = (await (await fetch(`${url}/v1/batches/${id}`)).json()) as OpenAI.Batch;
    const at = performance.now();
    if (done(batch)) return { at, batch };
    await Bun.sleep(everyMs);
  }
}

async function upload(client: OpenAI, text: string, name: string): Promise<string> {
  return (await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "batch" })).id;
}

const create = (client: OpenAI, fileId: string, endpoint: "/v1/embeddings" | "/v1/chat/completions") => client.batches.create({ input_file_id: fileId, endpoint, completion_window: "24h" });

/**
 * One file's upload (timed), the validation alone (the same file with its last line invalid: a
 * full pass that ends in `failed`), then the valid file's validation and queueing: its lines are
 * on the queue when the batch reports a total. Both passes run in one go after the create call's
 * reply, so the queueing is the difference of the two.
 */
async function phases(f: Foreman, text: string, invalidText: string, endpoint: "/v1/embeddings" | "/v1/chat/completions", name: string): Promise<FilePhases> {
  const up = await peakDuring(f.pid, async () => {
    const t = performance.now();
    const id = await upload(f.client, text, `${name}.jsonl`);
    return { id, s: (performance.now() - t) / 1000 };
  });
  const invalidId = await upload(f.client, invalidText, `${name}-invalid.jsonl`);
  const validation = await peakDuring(f.pid, () =>
    stallDuring(f.url, async () => {
      const t = performance.now();
      const b = await create(f.client, invalidId, endpoint);
      const { at, batch } = await until(f.url, b.id, (x) => x.status !== "validating", PROBE_MS);
      if (batch.status !== "failed" || batch.errors?.data?.[0]?.code !== "duplicate_custom_id") throw new Error(`the invalid ${name} file ended ${batch.status}: ${JSON.stringify(batch.errors)}`);
      return (at - t) / 1000;
    }),
  );
  const both = await peakDuring(f.pid, () =>
    stallDuring(f.url, async () => {
      const t = performance.now();
      const b = await create(f.client, up.value.id, endpoint);
      const { at, batch } = await until(f.url, b.id, (x) => x.request_counts!.total > 0 || x.status === "failed", PROBE_MS);
      if (batch.status === "failed") throw new Error(`the ${name} batch failed: ${JSON.stringify(batch.errors)}`);
      return { s: (at - t) / 1000, id: b.id, at };
    }),
  );
  return {
    uploadS: up.value.s,
    uploadPeak: up.peakMiB,
    uploadFrom: up.startMiB,
    validateFrom: validation.startMiB,
    bothFrom: both.startMiB,
    validateS: validation.value.value,
    validatePeak: validation.peakMiB,
    validateStallMs: validation.value.stallMs,
    bothS: both.value.value.s,
    bothPeak: both.peakMiB,
    bothStallMs: both.value.stallMs,
    batchId: both.value.value.id,
    queuedAt: both.value.value.at,
  };
}

// --- foreman ----------------------------------------------------------------------------------

interface Foreman {
  url: string;
  pid: number;
  client: OpenAI;
  idleMiB: number;
  stop(): Promise<void>;
}

async function startForeman(sim: Simulator): Promise<Foreman> {
  const dir = tempDir();
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "main.ts"), "serve", "--target", sim.url, "--port", "0", "--host", "127.0.0.1", "--db", join(dir.path, "foreman.db")], {
    env: { ...process.env, FOREMAN_AGING_CAP_MS: String(AGING_CAP_MS) },
    stdout: "ignore",
    stderr: "pipe",
  });
  const log: string[] = [];
  const url = await listeningUrl(proc.stderr, log);
  await fetch(`${url}/healthz`);
  // the log is drained but not kept
  const drain = setInterval(() => (log.length = 0), 1000);
  return {
    url,
    pid: proc.pid,
    client: new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0, timeout: 600_000 }),
    idleMiB: status(proc.pid).rss,
    async stop() {
      clearInterval(drain);
      proc.kill();
      // a foreman whose event loop is held does not get to its shutdown: then it is killed
      if ((await Promise.race([proc.exited, Bun.sleep(15_000).then(() => "late")])) === "late") proc.kill("SIGKILL");
      await proc.exited;
      dir.remove();
    },
  };
}

// --- the baselines, straight to the simulator -------------------------------------------------

const simulator = () => startSimulator({ tokenDelayMs: TOKEN_MS, loadMs: LOAD_MS, responseTokens: CHAT_TOKENS, maxLoaded: 1 });

/** Sends each line's body to its endpoint, one at a time: the time it took (ms). */
async function sendLines(url: string, lines: string[]): Promise<number> {
  const t = performance.now();
  for (const text of lines) {
    const line = JSON.parse(text) as { url: string; body: unknown };
    const res = await fetch(`${url}${line.url}`, { method: "POST", body: JSON.stringify(line.body), headers: { "content-type": "application/json" } });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`the simulator answered ${res.status} to ${line.url}`);
  }
  return performance.now() - t;
}

interface Baseline {
  /** One line's time with its model resident (ms), per model. */
  lineMs: Record<string, number>;
  fifoEmbedMs: number;
  fifoChatMs: number;
  fifoEmbedLoads: number;
  fifoChatLoads: number;
}

async function baseline(embed: string[], chat: string[]): Promise<Baseline> {
  const sim = await simulator();
  try {
    const fifoEmbedMs = await sendLines(sim.url, embed.slice(0, FIFO_EMBED_PREFIX));
    const fifoEmbedLoads = sim.counters.loads;
    const fifoChatMs = await sendLines(sim.url, chat.slice(0, FIFO_CHAT_PREFIX));
    const fifoChatLoads = sim.counters.loads - fifoEmbedLoads;
    const lineMs: Record<string, number> = {};
    for (const [model, lines] of [
      [EMBED_MODEL, embed],
      ...CHAT_MODELS.map((m) => [m, Array.from({ length: RESIDENT_SAMPLE }, (_, i) => chatLine(i, m))] as const),
    ] as const) {
      const sample = lines.slice(0, RESIDENT_SAMPLE);
      await sendLines(sim.url, sample.slice(0, 1)); // the load, not timed
      lineMs[model] = (await sendLines(sim.url, sample)) / sample.length;
    }
    return { lineMs, fifoEmbedMs, fifoChatMs, fifoEmbedLoads, fifoChatLoads };
  } finally {
    await sim.stop();
  }
}

// --- interactive requests while a batch runs --------------------------------------------------

interface Ttfb {
  same: number[];
  other: number[];
}

async function ttfbOf(url: string, model: string, i: number): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ model, messages: [{ role: "user", content: `quick question ${i}` }], options: { num_predict: CHAT_TOKENS } }) });
  const reader = res.body!.getReader();
  const first = await reader.read();
  const ms = performance.now() - t;
  if (res.status !== 200 || first.done) throw new Error(`an interactive request was answered ${res.status}`);
  while (!(await reader.read()).done);
  return ms;
}

/** A chat batch on one model; while it runs, streamed /api/chat requests one at a time, alternately for its model and another. */
async function interactive(f: Foreman): Promise<Ttfb & { completedBefore: number }> {
  const model = CHAT_MODELS[0]!;
  const fileId = await upload(f.client, jsonl(INTERACTIVE_BATCH_LINES, (i) => chatLine(i, model)), "interactive.jsonl");
  const b = await create(f.client, fileId, "/v1/chat/completions");
  await until(f.url, b.id, (x) => x.status !== "validating", 100);
  const out: Ttfb = { same: [], other: [] };
  for (let i = 0; i < INTERACTIVE_REQUESTS; i++) {
    await Bun.sleep(INTERACTIVE_GAP_MS);
    const same = i % 2 === 0;
    (same ? out.same : out.other).push(await ttfbOf(f.url, same ? model : OTHER_MODEL, i));
  }
  const running = await f.client.batches.retrieve(b.id);
  if (running.status !== "in_progress") throw new Error(`the batch was ${running.status} before the interactive requests ended: make it longer`);
  return { ...out, completedBefore: running.request_counts!.completed };
}

// --- the makespan -----------------------------------------------------------------------------

interface Makespan {
  /** Both batches completed; false: cut at MAKESPAN_LIMIT_MS, foreman stopped. */
  finished: boolean;
  ms: number;
  linesDone: number;
  /** From the last line's end to the batches' end (the output files written); 0 when cut. */
  tailMs: number;
  loads: number;
  swaps: number;
  /** Lines ended in each PROGRESS_WINDOW_MS from the start. */
  windows: number[];
  peakMiB: number;
}

/** GET /v1/batches/{id} of a running batch, less GET /healthz (medians of 5): it counts the batch's lines by state, as foreman does at every line's end. */
async function countCost(url: string, id: string): Promise<number> {
  const median = async (path: string) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await (await fetch(`${url}${path}`)).arrayBuffer();
      times.push(performance.now() - t);
    }
    return percentile(times.sort((a, b) => a - b), 50);
  };
  return Math.max(0, (await median(`/v1/batches/${id}`)) - (await median("/healthz")));
}

/** Runs both batches to their end, or to MAKESPAN_LIMIT_MS; counts lines from the simulator (this process). */
async function makespan(f: Foreman, sim: Simulator, from: number, ids: string[], progress: number[]): Promise<Makespan> {
  const total = EMBED_LINES + CHAT_LINES;
  const run = await peakDuring(f.pid, async () => {
    while (sim.counters.completed < total && (MAKESPAN_LIMIT_MS === 0 || performance.now() - from < MAKESPAN_LIMIT_MS)) await Bun.sleep(20);
    const linesAt = performance.now();
    const linesDone = sim.counters.completed;
    const finished = linesDone >= total;
    const loads = sim.counters.loads;
    const swaps = sim.counters.swaps;
    // cut: foreman is stopped with the batches running, their lines left on its queue
    if (!finished) return { finished, ms: linesAt - from, linesDone, tailMs: 0, loads, swaps };
    const ends = await Promise.all(ids.map((id) => until(f.url, id, (x) => ["completed", "failed", "expired", "cancelled"].includes(x.status), 50)));
    for (const e of ends) if (e.batch.status !== "completed" || e.batch.request_counts!.completed !== e.batch.request_counts!.total) throw new Error(`a batch ended ${e.batch.status}: ${JSON.stringify(e.batch.request_counts)}`);
    const endAt = Math.max(...ends.map((e) => e.at));
    return { finished, ms: endAt - from, linesDone, tailMs: endAt - linesAt, loads, swaps };
  });
  const windows = progress.map((done, i) => done - (progress[i - 1] ?? 0));
  return { ...run.value, windows, peakMiB: run.peakMiB };
}

// --- the run ----------------------------------------------------------------------------------

const embed = jsonl(EMBED_LINES, embedLine);
const chat = jsonl(CHAT_LINES, (i) => chatLine(i));
const embedLines = embed.trimEnd().split("\n");
const chatLines = chat.trimEnd().split("\n");
const started = performance.now();
const loadBefore = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

const base = await baseline(embedLines, chatLines);
const sim = await simulator();
const f = await startForeman(sim);
const emb = await phases(f, embed, jsonl(EMBED_LINES, embedLine, true), "/v1/embeddings", "embeddings");
// lines ended, counted from the embeddings batch's lines on the queue
const progress: number[] = [];
// and what a count of each batch's lines costs while it runs (one validating or ended is not counted: those figures are left out)
const countSamples = { embed: [] as number[], chat: [] as number[] };
const sampleCounts = async (chatId?: string) => {
  for (const [key, id] of [["embed", emb.batchId], ["chat", chatId]] as const) {
    if (!id) continue;
    const status = ((await (await fetch(`${f.url}/v1/batches/${id}`)).json()) as OpenAI.Batch).status;
    if (status === "in_progress") countSamples[key].push(await countCost(f.url, id));
  }
};
const counter = setInterval(() => {
  progress.push(sim.counters.completed);
  void sampleCounts(chatBatchId);
}, PROGRESS_WINDOW_MS);
let chatBatchId: string | undefined;
const cht = await phases(f, chat, jsonl(CHAT_LINES, (i) => chatLine(i), true), "/v1/chat/completions", "chat");
chatBatchId = cht.batchId;
await sampleCounts(chatBatchId);
const run = await makespan(f, sim, emb.queuedAt, [emb.batchId, cht.batchId], progress);
clearInterval(counter);
if (!run.finished) await sampleCounts(chatBatchId);
const countEmbedMs = percentile(sorted(countSamples.embed), 50) || 0;
const countChatMs = percentile(sorted(countSamples.chat), 50) || 0;
await f.stop();
await sim.stop();
const sim2 = await simulator();
const f2 = await startForeman(sim2);
const ttfb = await interactive(f2);
await f2.stop();
await sim2.stop();
const totalS = (performance.now() - started) / 1000;

// the rule's prediction, on the ideal clock: each line its resident time, a load per switch
const groups: PlannedGroup[] = [
  { model: EMBED_MODEL, lines: EMBED_LINES, queuedAt: 0, lineMs: base.lineMs[EMBED_MODEL]! },
  ...CHAT_MODELS.map((model, k) => ({ model, lines: Math.floor(CHAT_LINES / CHAT_MODELS.length) + (k < CHAT_LINES % CHAT_MODELS.length ? 1 : 0), queuedAt: cht.queuedAt - emb.queuedAt, lineMs: base.lineMs[model]! })),
];
const plan = planBatches(groups, LOAD_MS, AGING_CAP_MS);
const planDefault = planBatches(groups, LOAD_MS, DEFAULT_AGING_CAP_MS);
const workMs = groups.reduce((n, g) => n + g.lines * g.lineMs, 0);
const idealMs = workMs + plan.loads * LOAD_MS;
const fifoMs = base.fifoEmbedMs * (EMBED_LINES / FIFO_EMBED_PREFIX) + base.fifoChatMs * (CHAT_LINES / FIFO_CHAT_PREFIX);
const fifoLoads = base.fifoEmbedLoads + Math.round(base.fifoChatLoads * (CHAT_LINES / FIFO_CHAT_PREFIX));
// what foreman added per line beyond the work and the loads it made (over the lines it ran, when cut)
const workDoneMs = run.finished ? workMs : (workMs * run.linesDone) / (EMBED_LINES + CHAT_LINES);
const perLineOverheadMs = (run.ms - workDoneMs - run.loads * LOAD_MS) / run.linesDone;
// the same rule on foreman's clock: each line its resident time plus that
const planForemanClock = planBatches(
  groups.map((g) => ({ ...g, lineMs: g.lineMs + perLineOverheadMs })),
  LOAD_MS,
  AGING_CAP_MS,
);

// --- the report -------------------------------------------------------------------------------

const s = (ms: number, d = 1) => `${fmt(ms / 1000, d)} s`;
const mib = (m: number) => `${fmt(m, 0)} MiB`;
const n = (x: number) => x.toLocaleString("en");
const met = (ok: boolean) => (ok ? "**met**" : "**not met**");
const ttfbRow = (name: string, list: number[]) => `| ${name} | ${list.length} | ${fmt(percentile(sorted(list), 50), 0)} ms | ${fmt(percentile(sorted(list), 95), 0)} ms | ${fmt(sorted(list).at(-1)!, 0)} ms |`;
const p95 = (list: number[]) => percentile(sorted(list), 95);
const boundMs = PREEMPT_AFTER_MS + LOAD_MS + TOKEN_MS;
const embedQueueS = emb.bothS - emb.validateS;
const chatQueueS = cht.bothS - cht.validateS;
const peakEither = Math.max(emb.uploadPeak, emb.validatePeak, emb.bothPeak, cht.uploadPeak, cht.validatePeak, cht.bothPeak);
const runs = (p: typeof plan) => p.runs.map((r) => `${r.model} × ${n(r.lines)}`).join(" → ");
const fileRow = (name: string, lines: number, p: FilePhases, queueS: number) =>
  `| ${name} | ${n(lines)} | ${fmt(p.uploadS, 2)} s / ${mib(p.uploadPeak)} (from ${fmt(p.uploadFrom, 0)}) | ${fmt(p.validateS, 2)} s / ${mib(p.validatePeak)} (from ${fmt(p.validateFrom, 0)}) / ${fmt(p.validateStallMs, 0)} ms | ${fmt(queueS, 2)} s | ${fmt(p.bothS, 2)} s / ${mib(p.bothPeak)} (from ${fmt(p.bothFrom, 0)}) / ${fmt(p.bothStallMs, 0)} ms |`;

const foremanRow = run.finished
  ? `| foreman | ${s(run.ms)} | ${run.loads} (${run.swaps} swaps) |`
  : `| foreman — **cut at ${s(MAKESPAN_LIMIT_MS, 0)}**, then stopped: ${n(run.linesDone)} of ${n(EMBED_LINES + CHAT_LINES)} lines done | > ${s(run.ms)} | ${run.loads} (${run.swaps} swaps) so far |`;

const makespanSummary = run.finished
  ? `Loads the rule predicts with \`FOREMAN_AGING_CAP_MS=${AGING_CAP_MS}\`: **${plan.loads}** (one per model plus ${plan.loads - groups.length} the aging cap forces: ${runs(plan)}); seen: **${run.loads}**. The same rule on foreman's clock (each line its resident time plus the ${fmt(perLineOverheadMs, 2)} ms foreman added per line, on average) predicts ${planForemanClock.loads}: ${runs(planForemanClock)}. With the default cap (${DEFAULT_AGING_CAP_MS / 60_000} min) the rule predicts ${planDefault.loads} (${runs(planDefault)}). foreman's makespan is ${fmt(run.ms / idealMs, 2)}× the ideal and ${fmt(fifoMs / run.ms, 1)}× faster than FIFO. What keeps it above 1.05× is foreman's fixed cost per job (${fmt(perLineOverheadMs, 2)} ms a line, below) against lines of ${fmt(Math.min(...Object.values(base.lineMs)), 1)}–${fmt(Math.max(...Object.values(base.lineMs)), 1)} ms of work on this simulator: it is within 1.05× of the work once a line's work is ${fmt(perLineOverheadMs / 0.05, 0)} ms or more — an embedding on a real GPU is in that range, a chat reply of any length above it.`
  : `The run did not end within the limit (\`BATCH_BENCH_LIMIT_S\`, ${s(MAKESPAN_LIMIT_MS, 0)}; 0 lifts it), so it was cut there and foreman stopped with the batches running. Loads the rule predicts for the whole run with \`FOREMAN_AGING_CAP_MS=${AGING_CAP_MS}\`: ${plan.loads} (${runs(plan)}); seen before the cut: ${run.loads} — a count not comparable with a cut run (the rule's switches follow the clock, and foreman's ran ${fmt(perLineOverheadMs, 1)} ms a line slower than the work, on average). With the default cap (${DEFAULT_AGING_CAP_MS / 60_000} min) the rule predicts ${planDefault.loads} (${runs(planDefault)}).`;

const perLine = `What foreman added per line beyond the work and the loads it made: ${fmt(perLineOverheadMs, 2)} ms on average${run.finished ? "" : ", over the lines done before the cut"}. A line costs what any async job costs foreman (its state changes committed, the request and reply exchanged with the target: the Engine section's worker overhead) plus one index seek that asks whether its batch has ended (ADR 0044; before that fix, a count of all the batch's lines at every line's end made the cost grow with the square of the batch's size: 15.1 ms a line and 15× the ideal at this size). \`GET /v1/batches/{id}\`, which counts the batch's lines by state from an index, took ${fmt(countEmbedMs, 1)} ms for the embeddings batch and ${fmt(countChatMs, 1)} ms for the chat batch (medians of 5, less a \`GET /healthz\`, taken every ${PROGRESS_WINDOW_MS / 1000} s while the batch was in progress: the median of ${countSamples.embed.length} and ${countSamples.chat.length} samples); a GET's time includes its wait for the event loop, so these are upper bounds. Lines done in successive ${PROGRESS_WINDOW_MS / 1000} s windows from the start: ${run.windows.map(n).join(", ") || "(the run was shorter than one)"}.`;

await writeSection(
  "Batches",
  `Command: \`bun bench/batches.ts\` (${machine()}; ${SCALE === 1 ? "full size" : `**scaled by ${SCALE}**`}; load average ${loadBefore} at the start${Number(loadBefore.split(" ")[0]) > 1.5 ? ": the machine was shared with other work, so the figures were taken under load" : ""}). The whole run took ${s(totalS * 1000, 0)}.

Workload: an embeddings file of ${n(EMBED_LINES)} lines (\`/v1/embeddings\`, all ${EMBED_MODEL}, \`dimensions\` ${EMBED_DIMENSIONS}, base64 as the \`openai\` client asks by default) and a chat file of ${n(CHAT_LINES)} lines (\`/v1/chat/completions\`, ${CHAT_MODELS.join(" and ")} alternating line by line, \`max_tokens\` ${CHAT_TOKENS}) — three models. The simulator holds one model at a time, takes ${LOAD_MS} ms to load one and ${TOKEN_MS} ms per token (an embedding is one token's time). Both go through the real \`openai\` client (\`files.create\`, \`batches.create\`) to foreman running in its own process (\`src/main.ts serve\`, \`FOREMAN_AGING_CAP_MS=${AGING_CAP_MS}\`, the other settings default); its resident memory is read from \`/proc/PID/status\` every ${SAMPLE_MS} ms, and VmHWM, reset through \`clear_refs\` at each phase's start, catches peaks between samples (idle: ${mib(f.idleMiB)}).

### Upload, validation, queueing
The upload is \`files.create\`'s round trip. Validation and queueing run in one go after \`batches.create\` replies (a pass that checks every line, then one that queues them 2,000 to a transaction, held out of the scheduler, and makes them runnable in one last commit: ADR 0041), so validation alone is timed on the same file with its last line made invalid (a repeated \`custom_id\`): a full pass that ends in \`failed\`. The valid file's lines are on the queue when \`GET /v1/batches/{id}\` (asked every ${PROBE_MS} ms) first reports a total; queueing is the difference. The stall is the longest a \`GET /healthz\` took meanwhile (asked one at a time): how long foreman's event loop answered no one. The chat file's phases came after the embeddings file's, with the embeddings batch running: foreman's RSS starts them from where the embeddings file's queueing left it.

| file | lines | upload (time / peak RSS, from its RSS at the start) | validation alone (time / peak RSS / stall) | queueing (by difference) | validation + queueing (time / peak RSS / stall) |
|---|---|---|---|---|---|
${fileRow("embeddings", EMBED_LINES, emb, embedQueueS)}
${fileRow("chat", CHAT_LINES, cht, chatQueueS)}

Peak RSS while the batches ran: ${mib(run.peakMiB)}.

### Makespan
From the embeddings batch's lines on the queue to both batches \`completed\` with their output files written (foreman is asked every 50 ms once the simulator has answered every line). The ideal is the work — each line's time with its model resident, measured on the simulator (${Object.entries(base.lineMs).map(([m, ms]) => `${m} ${fmt(ms, 2)} ms`).join(", ")}) — plus one load per switch the scheduling rule makes. The rule's count comes from \`bench/batch-plan.ts\`: the queue's own forecast (ADR 0038), which runs the scheduler's \`chooseNext\` forward over these lines on the ideal clock, the chat lines queued ${s(cht.queuedAt - emb.queuedAt)} after the embeddings (as in this run). FIFO is measured over the first ${n(FIFO_EMBED_PREFIX)} embeddings lines (${s(base.fifoEmbedMs)}, ${base.fifoEmbedLoads} load) and the first ${FIFO_CHAT_PREFIX} chat lines (${s(base.fifoChatMs)}, ${base.fifoChatLoads} loads: the models alternate), extrapolated linearly to the files (its cost is linear in lines).

| run | makespan | model loads |
|---|---|---|
| FIFO, one line at a time in file order, direct to the simulator (extrapolated) | ${s(fifoMs, 0)} | ${n(fifoLoads)} |
${foremanRow}
| ideal: the work (${s(workMs)}) + the rule's loads | ${s(idealMs)} | ${plan.loads} |

${makespanSummary}

${perLine}

### Interactive requests while a batch runs
A ${n(INTERACTIVE_BATCH_LINES)}-line chat batch on ${CHAT_MODELS[0]} runs; meanwhile ${INTERACTIVE_REQUESTS} streamed \`/api/chat\` requests (${CHAT_TOKENS} tokens) are sent one at a time, ${INTERACTIVE_GAP_MS} ms apart, alternately for the batch's model and for ${OTHER_MODEL}; time to first byte is from sending to the first body byte. The batch had ${n(ttfb.completedBefore)} lines done by then; it runs on a fresh foreman and simulator, so nothing of the makespan run is left on the queue. The preemption bound (ADR 0020, as in the Preemption section): threshold ${s(PREEMPT_AFTER_MS)} + one load + one token = ${s(boundMs, 2)}. A batch line here is a few milliseconds, far below the threshold: an interactive request waits for the line on the target, then for its own model's load when it is another.

| requests | n | TTFB p50 | TTFB p95 | max |
|---|---|---|---|---|
${ttfbRow(`same model as the batch (${CHAT_MODELS[0]})`, ttfb.same)}
${ttfbRow(`another model (${OTHER_MODEL})`, ttfb.other)}

### Targets
- Validation + queueing of ${n(EMBED_LINES)} lines ≤ 10 s: ${fmt(emb.bothS, 2)} s (validation ${fmt(emb.validateS, 2)} s, queueing ${fmt(embedQueueS, 2)} s) — ${met(emb.bothS <= 10)}.
- Peak RSS ≤ 200 MiB for either file: ${mib(peakEither)} — ${met(peakEither <= 200)} (embeddings: upload ${mib(emb.uploadPeak)}, validation ${mib(emb.validatePeak)}, validation + queueing ${mib(emb.bothPeak)}; chat: ${mib(cht.uploadPeak)}, ${mib(cht.validatePeak)}, ${mib(cht.bothPeak)}).
- Makespan ≤ 1.05 × ideal with one load per model plus the switches the aging cap forces: ${run.finished ? `${fmt(run.ms / idealMs, 2)}× — ${met(run.ms <= 1.05 * idealMs)}; loads ${run.loads} seen; the rule predicts ${plan.loads} on the ideal clock and ${planForemanClock.loads} on foreman's (the aging cap's switches follow the clock) — ${met(run.loads === planForemanClock.loads)}` : `over ${fmt(run.ms / idealMs, 1)}× (cut) — **not met**`}.
- Interactive p95 within the preemption bound (${s(boundMs, 2)}): same model ${fmt(p95(ttfb.same), 0)} ms, another model ${fmt(p95(ttfb.other), 0)} ms — ${met(Math.max(p95(ttfb.same), p95(ttfb.other)) <= boundMs)}.`,
);
