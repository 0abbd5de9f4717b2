// The one test harness: a stack (simulator + foreman on loopback port 0, fresh database,
// torn down together), bounded waits that say what they waited for, seeded randomness that
// prints its seed, and the helpers for tests that spawn foreman as a real process.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, type Config } from "../src/config.ts";
import { Queue } from "../src/queue/queue.ts";
import { startForeman, type Foreman, type StartOptions } from "../src/server.ts";
import { startSimulator, type SimOptions, type Simulator } from "../src/sim/index.ts";
import { openStore, type Store } from "../src/store/open.ts";

export function tempDir(prefix = "foreman-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** foreman's defaults with the test's overrides: loopback, port 0, a database in `dir`, no logs. */
export function testConfig(overrides: Partial<Config> = {}, dir = tempDir().path): Config {
  const parsed = parseConfig([], {});
  if (!parsed.ok) throw new Error(parsed.error);
  return { ...parsed.config, host: "127.0.0.1", port: 0, db: join(dir, "foreman.db"), logLevel: "silent", ...overrides };
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

export interface WaitOptions {
  /** What is being waited for, in words: the failure message says it. */
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Polls `check` until it returns a truthy value, and returns that value. Gives up after
 * `timeoutMs` (default 10 s) with an error naming what it waited for and the last value seen.
 */
export async function waitFor<T>(check: () => T | Promise<T>, options: WaitOptions): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = performance.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what} (last seen: ${JSON.stringify(last)})`);
    await Bun.sleep(options.intervalMs ?? 10);
  }
}

/**
 * A seeded pseudo-random generator (mulberry32). The seed comes from FOREMAN_TEST_SEED when
 * set, else from the clock, and is printed, so a failing run can be replayed exactly.
 */
export function seededRandom(label: string, seed = Number(process.env.FOREMAN_TEST_SEED ?? Date.now() % 2 ** 31)): () => number {
  console.log(`${label}: random seed ${seed} (replay with FOREMAN_TEST_SEED=${seed})`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Path to the bun executable running the tests, for child-process tests. */
export const BUN = process.execPath;
export const MAIN = join(import.meta.dir, "..", "src", "main.ts");

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
