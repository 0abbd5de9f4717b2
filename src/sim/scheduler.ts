// Model residency as Ollama's scheduler runs it: one slot per model
// (NUM_PARALLEL=1), loads one at a time from a bounded pending queue, LRU-ish
// eviction at maxLoaded, reloads when load-time options change (needsReload),
// sticky keep_alive and idle expiry timers.
//
// Counters: `loads` counts every runner started; `swaps` the loads that first
// had to unload a resident runner (to make room, or to reload it with other
// options); `reloads` the swaps that replaced the same model.

import { abortable, FOREVER_NS, msToNs, nowNs, sleep } from "./clock.ts";
import { ClientGone, QUEUE_FULL, SimError } from "./errors.ts";
import type { KeepAlive } from "./duration.ts";
import type { ModelEntry } from "./catalogue.ts";
import { needsReload } from "../ollama/load-options.ts";
import type { RunnerLoad } from "./options.ts";
import type { SimCounters, SimFaults, SimSettings } from "./types.ts";

interface Runner {
  entry: ModelEntry;
  load: RunnerLoad;
  loaded: boolean;
  ready: Promise<void>;
  refs: number;
  keepAliveMs: number;
  expiresNs: bigint;
  everIdle: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  slotBusy: boolean;
  slotWaiters: Array<() => void>;
}

/** What a request asks the scheduler for. */
export interface Want {
  entry: ModelEntry;
  keepAlive: KeepAlive;
  load: RunnerLoad;
}

export interface Lease {
  entry: ModelEntry;
  /** ms from acquire() until the runner was handed over (queue + load). */
  loadMs: number;
  release(): void;
}

/** Other requests waiting on a load whose own client went away re-queue. */
class LoadAborted extends Error {}

const noop = (): void => {};

/** now + keep_alive as Go adds a Duration: "forever" is MaxInt64 ns, about 292 years on. */
const expiry = (keepAliveMs: number, now: bigint): bigint => now + (keepAliveMs === Infinity ? FOREVER_NS : msToNs(keepAliveMs));

export class Scheduler {
  private readonly runners = new Map<string, Runner>();
  private pending = 0;
  private loadChain: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly settings: SimSettings,
    private readonly counters: SimCounters,
    private readonly faults: () => SimFaults,
  ) {}

  /** Takes a reference on a loaded runner for `entry`, loading it if needed; `slot` also waits for its one slot. */
  async acquire(want: Want, signal: AbortSignal, slot: boolean): Promise<Lease> {
    const { keepAlive } = want;
    const started = performance.now();
    for (;;) {
      const runner = await this.reference(want, signal);
      try {
        await abortable(runner.ready, signal);
      } catch (err) {
        this.unref(runner);
        if (err instanceof LoadAborted) continue;
        throw err;
      }
      if (keepAlive !== undefined) runner.keepAliveMs = keepAlive;
      const loadMs = performance.now() - started;
      if (slot) {
        try {
          await this.takeSlot(runner, signal);
        } catch (err) {
          this.unref(runner);
          throw err;
        }
      }
      let released = false;
      return {
        entry: runner.entry,
        loadMs,
        release: () => {
          if (released) return;
          released = true;
          if (slot) this.giveSlot(runner);
          this.unref(runner);
        },
      };
    }
  }

  /** The unload request (§5.3): expire now if idle, else once its requests finish. */
  unload(entry: ModelEntry): void {
    const runner = this.runners.get(entry.key);
    if (!runner) return;
    runner.keepAliveMs = 0;
    runner.expiresNs = nowNs();
    if (runner.refs === 0) this.evict(runner);
  }

  /** Drops an idle runner of a deleted model. */
  forget(key: string): void {
    const runner = this.runners.get(key);
    if (runner && runner.refs === 0) this.evict(runner);
  }

  resident(): ModelEntry[] {
    return [...this.runners.values()].filter((r) => r.loaded).map((r) => r.entry);
  }

  /** /api/ps rows; like Ollama it blocks while a load is in progress. */
  async ps(): Promise<Array<{ entry: ModelEntry; expiresNs: bigint; contextLength: number }>> {
    await Promise.allSettled([...this.runners.values()].map((r) => r.ready));
    const now = nowNs();
    return [...this.runners.values()]
      .filter((r) => r.loaded)
      .map((r) => ({
        entry: r.entry,
        expiresNs: r.everIdle ? r.expiresNs : expiry(r.keepAliveMs, now),
        contextLength: r.load.numCtx,
      }))
      .sort((a, b) => Number(b.expiresNs / 1_000_000_000n - a.expiresNs / 1_000_000_000n));
  }

  stop(): void {
    for (const runner of this.runners.values()) clearTimeout(runner.timer);
    this.runners.clear();
  }

  /** A referenced runner: the resident one, or one from the load queue. */
  private async reference(want: Want, signal: AbortSignal): Promise<Runner> {
    const resident = this.runners.get(want.entry.key);
    if (resident && !needsReload(resident.load, want.load)) {
      this.ref(resident);
      return resident;
    }
    const queued = this.enqueueLoad(want, signal);
    try {
      return await abortable(queued, signal);
    } catch (err) {
      queued.then((r) => this.unref(r), noop);
      throw err;
    }
  }

  private enqueueLoad(want: Want, signal: AbortSignal): Promise<Runner> {
    if (this.pending >= this.settings.maxQueue) return Promise.reject(new SimError(503, QUEUE_FULL));
    this.pending++;
    const run = this.loadChain.then(() => this.loadOne(want, signal));
    this.loadChain = run.then((r) => r.ready.catch(noop), noop);
    return run;
  }

  private async loadOne(want: Want, signal: AbortSignal): Promise<Runner> {
    const { entry, keepAlive, load } = want;
    this.pending--;
    if (signal.aborted) throw new ClientGone();
    let reloaded = false;
    for (let existing = this.runners.get(entry.key); existing; existing = this.runners.get(entry.key)) {
      if (!needsReload(existing.load, load)) {
        this.ref(existing);
        return existing;
      }
      // Like expireRunner: the old runner goes once its in-flight requests finish.
      if (existing.refs > 0) await this.untilIdle(signal);
      else {
        this.evict(existing);
        reloaded = true;
      }
    }
    let evicted = reloaded;
    while (this.runners.size >= this.settings.maxLoaded) {
      const idle = [...this.runners.values()].filter((r) => r.refs === 0 && r.loaded);
      idle.sort((a, b) => a.keepAliveMs - b.keepAliveMs);
      const victim = idle[0];
      if (victim) {
        this.evict(victim);
        evicted = true;
      } else {
        await this.untilIdle(signal);
      }
    }
    const keepAliveMs = keepAlive ?? this.settings.keepAliveMs;
    const runner: Runner = {
      entry,
      load,
      loaded: false,
      ready: Promise.resolve(),
      refs: 1,
      keepAliveMs,
      expiresNs: expiry(keepAliveMs, nowNs()),
      everIdle: false,
      timer: undefined,
      slotBusy: false,
      slotWaiters: [],
    };
    this.runners.set(entry.key, runner);
    this.counters.loads++;
    if (evicted) this.counters.swaps++;
    if (reloaded) this.counters.reloads++;
    runner.ready = this.load(runner, signal);
    runner.ready.catch(noop);
    return runner;
  }

  private async load(runner: Runner, signal: AbortSignal): Promise<void> {
    try {
      await sleep(runner.entry.loadMs ?? this.settings.loadMs, signal);
      if (this.faults().failLoad.some((name) => name === runner.entry.display || runner.entry.key.endsWith(`/${name}`) || runner.entry.name.model === name)) {
        throw new SimError(500, "llama-server process has terminated: exit status 2: error loading model: unable to allocate CPU buffer");
      }
      runner.loaded = true;
    } catch (err) {
      this.runners.delete(runner.entry.key);
      this.notifyIdle();
      throw err instanceof ClientGone ? new LoadAborted() : err;
    }
  }

  private ref(runner: Runner): void {
    runner.refs++;
    clearTimeout(runner.timer);
    runner.timer = undefined;
  }

  private unref(runner: Runner): void {
    runner.refs--;
    if (runner.refs > 0 || this.runners.get(runner.entry.key) !== runner) return;
    runner.everIdle = true;
    runner.expiresNs = expiry(runner.keepAliveMs, nowNs());
    if (runner.keepAliveMs <= 0) this.evict(runner);
    else if (runner.keepAliveMs !== Infinity) runner.timer = setTimeout(() => this.evict(runner), runner.keepAliveMs);
    this.notifyIdle();
  }

  private evict(runner: Runner): void {
    clearTimeout(runner.timer);
    if (this.runners.get(runner.entry.key) === runner) this.runners.delete(runner.entry.key);
    this.notifyIdle();
  }

  /** Resolves when some runner goes idle or away. */
  private untilIdle(signal: AbortSignal): Promise<void> {
    return abortable(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), signal);
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  private takeSlot(runner: Runner, signal: AbortSignal): Promise<void> {
    if (!runner.slotBusy) {
      runner.slotBusy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = (): void => {
        runner.slotWaiters = runner.slotWaiters.filter((w) => w !== grant);
        reject(new ClientGone());
      };
      runner.slotWaiters.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  private giveSlot(runner: Runner): void {
    const next = runner.slotWaiters.shift();
    if (next) next();
    else runner.slotBusy = false;
  }
}
