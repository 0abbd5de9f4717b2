// Where a test lives: test/ mirrors the source tree, so a test is in the folder of the code it
// is about — src/<part>/ → test/<part>/ (the HTTP edge, ops endpoints included, is src/http),
// the job API in routes/<path>/ → test/routes/<path>/, a top-level src/<file>.ts →
// test/<file>.test.ts — and test/clients/, test/deploy/ mirror clients/ and the deploy files.
//
// The one test harness: a stack (simulator + foreman on loopback port 0, fresh database,
// torn down together; per test or per file), bounded waits that say what they waited for,
// seeded randomness that prints its seed, foreman as a child process, and job API shortcuts.
// Raw-wire helpers are in ./wire.ts, the webhook receiver in ./webhooks/receiver.ts.
import { afterAll, afterEach, beforeAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type Config } from "../src/config.ts";
import { Queue } from "../src/queue/queue.ts";
import { startForeman, type Foreman, type StartOptions } from "../src/server.ts";
import type { Job } from "../src/queue/view.ts";
import { startSimulator, type SimOptions, type Simulator } from "../src/sim/index.ts";
import { prng } from "../src/sim/output.ts";
import type { Subprocess } from "bun";
import { openStore, type Store } from "../src/store/open.ts";

export function tempDir(prefix = "foreman-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** foreman's defaults with the test's overrides: loopback, port 0, a database in `dir`, no logs. */
export function testConfig(overrides: Partial<Config> = {}, dir = tempDir().path): Config {
  const parsed = parseConfig([], {});
  if (!parsed.ok) throw new Error(parsed.error);
  return { ...parsed.config, host: "127.0.0.1", port: 0, db: join(dir, "foreman.db"), logLevel: "silent", webhookAllow: "127.0.0.1", ...overrides };
}

export interface TestForeman extends Foreman {
  readonly dir: string;
}

/** foreman alone (its target given in `overrides`, or none), with a database removed on stop. */
export async function startTestForeman(overrides: Partial<Config> = {}, options: StartOptions = {}): Promise<TestForeman> {
  const dir = tempDir();
  try {
    const foreman = await startForeman(testConfig(overrides, dir.path), options);
    return {
      ...foreman,
      dir: dir.path,
      stop: async () => {
        await foreman.stop();
        dir.remove();
      },
    };
  } catch (err) {
    dir.remove();
    throw err;
  }
}

export interface Stack {
  readonly sim: Simulator;
  readonly foreman: TestForeman;
  /** foreman's base URL */
  readonly url: string;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Simulator settings; tests that count loads or swaps pin `maxLoaded`. */
  sim?: SimOptions;
  /** foreman settings over the test defaults (the target is the simulator). */
  foreman?: Partial<Config>;
  start?: StartOptions;
}

/** The simulator and a foreman in front of it, in one line; `stop()` tears both down. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const sim = await startSimulator({ tokenDelayMs: 1, loadMs: 5, ...options.sim });
  let foreman: TestForeman;
  try {
    foreman = await startTestForeman({ target: sim.url, ...options.foreman }, options.start);
  } catch (err) {
    await sim.stop();
    throw err;
  }
  return {
    sim,
    foreman,
    url: foreman.url,
    stop: async () => {
      await foreman.stop();
      await sim.stop();
    },
  };
}

/**
 * One stack for the tests of a file (or of a describe block): started before the first of
 * them, stopped after the last. Its fields can be read from inside the tests.
 */
export function sharedStack(options: StackOptions = {}): Stack {
  let stack: Stack | undefined;
  beforeAll(async () => {
    stack = await startStack(options);
  });
  afterAll(async () => {
    await stack?.stop();
  });
  const started = (): Stack => {
    if (!stack) throw new Error("the shared stack is read before beforeAll started it");
    return stack;
  };
  return {
    get sim() {
      return started().sim;
    },
    get foreman() {
      return started().foreman;
    },
    get url() {
      return started().url;
    },
    stop: () => started().stop(),
  };
}

/**
 * For files that start what they need inside each test: `const start = perTest()` at the top,
 * then `await start.stack(…)` or `start.foreman(…)` in a test, and `start.defer(stop)` for
 * anything else (a fake target); all of it is stopped after that test, newest first.
 */
export function perTest() {
  const stops: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  });
  const defer = (stop: () => unknown) => void stops.push(stop);
  return {
    defer,
    async stack(options?: StackOptions): Promise<Stack> {
      const stack = await startStack(options);
      defer(() => stack.stop());
      return stack;
    },
    async foreman(overrides?: Partial<Config>, options?: StartOptions): Promise<TestForeman> {
      const foreman = await startTestForeman(overrides, options);
      defer(() => foreman.stop());
      return foreman;
    },
    /**
     * foreman as a child process on a database of its own, that `spawn` starts again on the same
     * database after a kill (every process is SIGKILLed, the folder removed, at the test's end).
     */
    restartable(target: string, args: string[] = []): { db: string; spawn(): Promise<ForemanProcess> } {
      const dir = tempDir();
      defer(() => dir.remove());
      const db = join(dir.path, "foreman.db");
      const spawn = async () => {
        const proc = await spawnForeman({ target, db, args });
        defer(() => proc.kill("SIGKILL"));
        return proc;
      };
      return { db, spawn };
    },
  };
}

export interface WaitOptions {
  /** What is being waited for, in words: the failure message says it (a function is asked at the time, to tell the state then). */
  what: string | (() => string);
  timeoutMs?: number;
  intervalMs?: number;
}

type Truthy<T> = Exclude<T, false | 0 | "" | null | undefined>;

/**
 * Polls `check` until it returns a truthy value, and returns that value. Gives up after
 * `timeoutMs` (default 10 s) with an error naming what it waited for and the last value seen.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<Truthy<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as Truthy<T>;
    if (performance.now() > deadline) {
      const what = typeof options.what === "function" ? options.what() : options.what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last seen: ${JSON.stringify(last)})`);
    }
    await Bun.sleep(options.intervalMs ?? 10);
  }
}

/** Whether the worker has work on the target (its state is that work's: loading or working). */
export const workerBusy = (f: Foreman): boolean => f.services.worker.state.kind === "loading" || f.services.worker.state.kind === "working";

/**
 * The seed for a test's randomness: FOREMAN_TEST_SEED when set, else from the clock. It is
 * printed, so a failing run can be replayed with the same random choices.
 */
export function testSeed(label: string): number {
  const given = process.env.FOREMAN_TEST_SEED;
  const seed = given ? Number(given) : Date.now() % 2 ** 31;
  if (!Number.isSafeInteger(seed)) throw new Error(`FOREMAN_TEST_SEED must be an integer, not ${JSON.stringify(given)}`);
  console.log(`${label}: random seed ${seed} (replay with FOREMAN_TEST_SEED=${seed})`);
  return seed;
}

/** A seeded pseudo-random generator (the simulator's mulberry32), by default seeded with `testSeed(label)`. */
export function seededRandom(label: string, seed = testSeed(label)): () => number {
  return prng(seed);
}

/** POST /jobs with a JSON body; the reply's status, job (or error body) and headers. */
export async function postJob(base: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; job: Job; headers: Headers; raw: unknown }> {
  const res = await fetch(`${base}/jobs`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const raw = await res.json();
  return { status: res.status, job: raw as Job, headers: res.headers, raw };
}

/** GET /jobs/{id}, with `?wait=` seconds for a finished job when given. */
export async function getJob(base: string, id: string, wait?: number): Promise<Job> {
  return (await (await fetch(`${base}/jobs/${id}${wait ? `?wait=${wait}` : ""}`)).json()) as Job;
}

/** A chat request body for `model`. */
export const chatRequest = (model = "llama3.2", content = "hello") => ({ model, messages: [{ role: "user", content }] });

/** Path to the bun executable running the tests, for child-process tests. */
export const BUN = process.execPath;
export const MAIN = join(import.meta.dir, "..", "src", "main.ts");

/** Runs the CLI (`bun src/main.ts ARGS…`) against `url` to its end: what it printed, and its exit code. */
export async function runCli(url: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...process.env, FOREMAN_URL: url }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

export interface ForemanProcess {
  readonly proc: Subprocess<"ignore", "ignore", "pipe">;
  /** foreman's base URL, from its "foreman listening" log line */
  readonly url: string;
  /** its log (stderr), drained as it comes */
  readonly log: string[];
  /** Sends `signal` (SIGTERM by default) and resolves with the exit code. */
  kill(signal?: NodeJS.Signals): Promise<number>;
}

/**
 * foreman as a real child process (`serve` on loopback port 0, with `db` and `target`), for
 * tests that kill it or restart it on the same database; `wrap` runs it under a command that
 * execs it (unshare, keeping its pid). Resolves once it listens.
 */
export async function spawnForeman(options: { target: string; db: string; args?: string[]; wrap?: string[] }): Promise<ForemanProcess> {
  const proc = Bun.spawn([...(options.wrap ?? []), BUN, MAIN, "serve", "--port", "0", "--host", "127.0.0.1", "--target", options.target, "--db", options.db, ...(options.args ?? [])], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const log: string[] = [];
  try {
    const url = await listeningUrl(proc.stderr, log);
    return {
      proc,
      url,
      log,
      kill: async (signal = "SIGTERM") => {
        proc.kill(signal);
        return proc.exited;
      },
    };
  } catch (err) {
    proc.kill("SIGKILL");
    await proc.exited;
    throw err;
  }
}

/**
 * Reads a daemon's JSON log until its "foreman listening" line and returns the URL. The rest
 * of the log keeps being drained (into `log`) so the child never blocks or dies on a closed pipe.
 */
export async function listeningUrl(stream: ReadableStream<Uint8Array>, log: string[] = []): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`foreman exited before listening:\n${buffered}`);
    buffered += decoder.decode(value, { stream: true });
    const line = buffered.split("\n").find((l) => l.includes('"foreman listening"'));
    if (line) {
      log.push(buffered);
      void (async () => {
        for (;;) {
          const next = await reader.read().catch(() => ({ done: true, value: undefined }));
          if (next.done) return;
          log.push(decoder.decode(next.value));
        }
      })();
      return (JSON.parse(line) as { url: string }).url;
    }
  }
}

export interface TestQueue {
  store: Store;
  queue: Queue;
  /** Closes the store and removes its directory. */
  remove(): void;
}

/** A queue alone on a fresh database (full sync, its own durability), for tests without a server. */
export function testQueue(clock: () => number = Date.now): TestQueue {
  const dir = tempDir();
  const store = openStore(join(dir.path, "q.db"));
  return {
    store,
    queue: new Queue(store.db, clock, store.durability),
    remove() {
      store.close();
      dir.remove();
    },
  };
}
