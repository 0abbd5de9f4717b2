// Checkpoint benchmark (issue 24): what SQLite's automatic checkpoint, run inside a commit on the
// event loop, costs the worker. (1) One checkpoint of a WAL of about 1,000 pages (SQLite's
// automatic threshold), timed alone, with synchronous = NORMAL as deferred commits have it (an
// fsync of the WAL before, of the database after). (2) Tiny jobs/s through the worker with the
// automatic checkpoint (as shipped), with none at all, and with a checkpointer on its own
// connection in a worker thread (a prototype: bench/checkpointer-thread.ts) — interleaved
// rounds, since the machine is shared.
// Run: bun bench/checkpoint.ts
import { Database } from "bun:sqlite";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isTerminal } from "../src/contract/states.ts";
import { ASYNC } from "../src/queue/queue.ts";
import { startSimulator } from "../src/sim/index.ts";
import { startTestForeman, tempDir } from "../test/harness.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const JOBS = 3000;
const ROUNDS = 6;
const loadAverage = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

/** Milliseconds per checkpoint of ~1,000 WAL pages (15 of them, sorted). */
function checkpointAlone(): number[] {
  const dir = tempDir();
  const db = new Database(join(dir.path, "c.db"), { create: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA wal_autocheckpoint = 0");
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)");
  const write = db.query("INSERT OR REPLACE INTO t VALUES (?, randomblob(3000))");
  const times: number[] = [];
  for (let r = 0; r < 15; r++) {
    for (let i = 0; i < 1000; i++) write.run(i % 500);
    const t = performance.now();
    db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    times.push(performance.now() - t);
  }
  db.close();
  dir.remove();
  return times.sort((a, b) => a - b);
}

const body = (i: number) => JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: `q ${i}` }], stream: false });

/** JOBS tiny jobs queued at once, timed from the worker's first look to the last end; and the WAL pages one job writes. */
type Mode = "automatic" | "none" | "thread";

async function throughWorker(target: string, mode: Mode): Promise<{ perSec: number; pagesPerJob: number }> {
  const f = await startTestForeman({ target });
  const db = f.services.store.db;
  if (mode !== "automatic") db.exec("PRAGMA wal_autocheckpoint = 0");
  const checkpointer = mode === "thread" ? new Worker(new URL("./checkpointer-thread.ts", import.meta.url)) : undefined;
  checkpointer?.postMessage(f.services.store.path);
  const q = f.services.queue;
  const { promise, resolve } = Promise.withResolvers<void>();
  let ended = 0;
  const stop = f.services.watch.subscribe(null, (job) => {
    if (isTerminal(job.status) && ++ended === JOBS) {
      stop();
      resolve();
    }
  });
  q.atomically(() => {
    for (let i = 0; i < JOBS; i++) q.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: body(i) });
  });
  const walBefore = (db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number }).log;
  const t = performance.now();
  f.services.worker.wake();
  await promise;
  const perSec = JOBS / ((performance.now() - t) / 1000);
  const wal = (db.query("PRAGMA wal_checkpoint(PASSIVE)").get() as { log: number }).log;
  checkpointer?.terminate();
  await f.stop();
  return { perSec, pagesPerJob: mode === "none" ? (wal - walBefore) / JOBS : NaN };
}

const loadAtStart = loadAverage();
const alone = checkpointAlone();
const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 1, maxLoaded: 1 });
const runs: Record<Mode, number[]> = { automatic: [], none: [], thread: [] };
const order: Mode[] = ["automatic", "none", "thread"];
let pagesPerJob = NaN;
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of r % 2 === 0 ? order : order.toReversed()) {
    const run = await throughWorker(sim.url, mode);
    runs[mode].push(run.perSec);
    if (mode === "none") pagesPerJob = run.pagesPerJob;
  }
}
await sim.stop();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const list = (xs: number[]) => xs.map((x) => fmt(x, 0)).join(", ");
const perCheckpoint = percentile(alone, 50);
const jobsPerCheckpoint = 1000 / pagesPerJob;
const share = perCheckpoint / 1000 / jobsPerCheckpoint / (1 / median(runs.automatic));
await writeSection(
  "Checkpoints on the event loop",
  `Command: \`bun bench/checkpoint.ts\` (${machine()}; load average ${loadAtStart} at the start, ${loadAverage()} at the end — other work shares the 2 cores).

One automatic checkpoint (about 1,000 WAL pages, \`synchronous = NORMAL\`): median ${fmt(perCheckpoint, 2)} ms (min ${fmt(alone[0]!, 2)}, max ${fmt(alone.at(-1)!, 2)}, 15 runs). A tiny job writes ${fmt(pagesPerJob, 1)} WAL pages, so SQLite checkpoints inside one commit in ~${fmt(jobsPerCheckpoint, 0)}: about ${fmt((perCheckpoint * 1000) / jobsPerCheckpoint, 0)} µs per job, ${fmt(share * 100, 0)} % of a job's time at the rate below.

${JOBS} tiny jobs through the worker (as in the engine benchmark), ${ROUNDS} interleaved rounds each:

| checkpoints | jobs/s, each round | median |
|---|---|---|
| automatic, inside commits (as shipped) | ${list(runs.automatic)} | ${fmt(median(runs.automatic), 0)} |
| none at all (the WAL only grows) | ${list(runs.none)} | ${fmt(median(runs.none), 0)} |
| a checkpointer on its own connection in a worker thread, every 20 ms (prototype) | ${list(runs.thread)} | ${fmt(median(runs.thread), 0)} |

ADR 0029 reads these figures.`,
);
