// Model residency as Ollama's scheduler runs it: one slot per model
// (NUM_PARALLEL=1), loads one at a time from a bounded pending queue, LRU-ish
// eviction at maxLoaded, sticky keep_alive and idle expiry timers.

import { abortable, FOREVER_NS, msToNs, nowNs, sleep } from "./clock.ts";
import { ClientGone, QUEUE_FULL, SimError } from "./errors.ts";
import type { KeepAlive } from "./duration.ts";
import type { ModelEntry } from "./catalogue.ts";
import type { SimCounters, SimFaults, SimSettings } from "./types.ts";

interface Runner {
  entry: ModelEntry;
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
  async acquire(entry: ModelEntry, keepAlive: KeepAlive, signal: AbortSignal, slot: boolean): Promise<Lease> {
    const started = performance.now();
    for (;;) {
      const runner = await this.reference(entry, keepAlive, signal);
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
        contextLength: Math.min(r.entry.contextLength, 4096),
      }))
      .sort((a, b) => Number(b.expiresNs / 1_000_000_000n - a.expiresNs / 1_000_000_000n));
  }

  stop(): void {
    for (const runner of this.runners.values()) clearTimeout(runner.timer);
    this.runners.clear();
  }

  /** A referenced runner: the resident one, or one from the load queue. */
  private async reference(entry: ModelEntry, keepAlive: KeepAlive, signal: AbortSignal): Promise<Runner> {
    const resident = this.runners.get(entry.key);
    if (resident) {
      this.ref(resident);
      return resident;
    }
    const queued = this.enqueueLoad(entry, keepAlive, signal);
    try {
      return await abortable(queued, signal);
    } catch (err) {
      queued.then((r) => this.unref(r), noop);
      throw err;
    }
  }

  private enqueueLoad(entry: ModelEntry, keepAlive: KeepAlive, signal: AbortSignal): Promise<Runner> {
    if (this.pending >= this.settings.maxQueue) return Promise.reject(new SimError(503, QUEUE_FULL));
    this.pending++;
    const run = this.loadChain.then(() => this.loadOne(entry, keepAlive, signal));
    this.loadChain = run.then((r) => r.ready.catch(noop), noop);
    return run;
  }

  private async loadOne(entry: ModelEntry, keepAlive: KeepAlive, signal: AbortSignal): Promise<Runner> {
    this.pending--;
    if (signal.aborted) throw new ClientGone();
    const existing = this.runners.get(entry.key);
    if (existing) {
      this.ref(existing);
      return existing;
    }
    let evicted = false;
    while (this.runners.size >= this.settings.maxLoaded) {
      const idle = [...this.runners.values()].filter((r) => r.refs === 0 && r.loaded);
      idle.sort((a, b) => a.keepAliveMs - b.keepAliveMs);
      const victim = idle[0];
      if (victim) {
        this.evict(victim);
        evicted = true;
      } else {
        await abortable(new Promise<void>((resolve) => this.idleWaiters.push(resolve)), signal);
      }
    }
    const keepAliveMs = keepAlive ?? this.settings.keepAliveMs;
    const runner: Runner = {
      entry,
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
