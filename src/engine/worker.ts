// The one worker: everything that reaches the target for inference goes through here, one
// request at a time, in the order the drain-by-model scheduler picks. It runs on a heartbeat
// interval and is also woken at once on enqueue, on completion and when the target returns,
// so no job waits for a tick. A passthrough request that has waited long enough stops the async
// job on the target (preemption, ADR 0020): the job goes back to its queue and the request runs
// next — the order changes, never the one-at-a-time.
import { kindOf } from "../../jobs/index.ts";
import type { JobKind } from "../../jobs/kind.ts";
import type { Config } from "../config.ts";
import { consumeReply, type Outcome } from "./reply.ts";
import type { Logger } from "../ops/log.ts";
import type { Poller } from "./poller.ts";
import { INTERACTIVE, notYetStarted, type JobRecord, type Queue } from "../queue/queue.ts";
import { laneName, type JobProgress } from "../queue/view.ts";
import type { LaneName } from "../contract/lanes.ts";
import { delayUntil, formatGoDuration, runCapMs } from "../queue/schedule.ts";
import { characters } from "../contract/progress.ts";
import { isTerminal } from "../contract/states.ts";
import { parseDrainKey, reloadsBetween } from "../ollama/load-options.ts";
import { preemption } from "./preemption.ts";
import { CANCELED_STATUS, endOf, type Attempt, type Operation } from "./ending.ts";
import { chooseNext } from "./scheduler.ts";
import { usageOf } from "./usage.ts";
import type { WorkerOutlook } from "./estimates.ts";
import type { TargetClient } from "../target/client.ts";
import { TargetDropped, TargetReset, TargetTimeout, TargetUnreachable } from "../target/errors.ts";
import { collectAfter } from "../ops/collect.ts";

/** Why a running job was stopped from inside foreman. */
class Canceled extends Error {}
class ShuttingDown extends Error {}
/** An interactive request (`by`, a passthrough record's id) waited long enough: the job makes way. */
class Preempted extends Error {
  constructor(
    readonly by: string,
    readonly at: number,
  ) {
    super("preempted by an interactive request");
  }
}

/**
 * An attempt ran into its run-time cap (ADR 0035): foreman stops it as it would a silent target
 * — a timeout of foreman's own — but the job fails at once, as the same request would loop again.
 */
export class OverRunCap extends TargetTimeout {
  constructor(readonly capMs: number) {
    super(`stopped at the run-time cap (max_run ${formatGoDuration(capMs)}): the target was still generating`);
  }
}

/** A passthrough request: the caller holds the body and receives the target's reply. */
export interface InteractiveRequest {
  /** Where the request goes on the target: its path, query string included. */
  path: string;
  /** What the target is sent: the caller's bytes, held or spooled to a file (a multipart upload). */
  body: Uint8Array | Blob;
  headers: Headers;
  /** Its kind when not its endpoint's from jobs/: a relayed one, for an endpoint foreman does not know (ADR 0031). */
  kind?: JobKind;
  /** Aborted when the caller goes away. */
  signal: AbortSignal;
  /** Streams the target's reply to the caller; resolves when the caller has all of it. */
  deliver(res: Response, signal: AbortSignal): Promise<Outcome | { kind: "gone" }>;
  /** The request ended without a reply from the target (timeout, shutdown, foreman error). */
  fail(status: number, message: string): void;
  /** The target dropped the request before answering, each time it was sent: the caller's connection is cut the same way (ADR 0030). */
  cut(): void;
}

export type WorkerState = { kind: "idle" } | { kind: "loading" | "working"; jobId: string; model: string; since: number } | { kind: "paused"; reason: string; until?: number };

export interface WorkerStats {
  jobs: number;
  loads: number;
  /** Loads that replaced a resident runner: another model's, or the same model's with other load-time options. */
  swaps: number;
  /** The swaps that reloaded the same model because a request changed its load-time options (ADR 0021). */
  reloads: number;
  preemptions: number;
  /** Generation thrown away by preemptions: from each preempted job's first byte to its stop (ms). */
  discardedMs: number;
}

/** A load that replaced a resident runner: when, and which drain key (model and options) made way for which. */
export interface Swap {
  at: number;
  from: string;
  to: string;
  /** The same model, reloaded with other load-time options. */
  reload: boolean;
}

/** A job that made way for an interactive request. */
export interface Preemption {
  at: number;
  jobId: string;
  model: string;
  /** The passthrough record that preempted it. */
  by: string;
  /** Generation thrown away (ms): from the job's first byte to its stop; 0 when it was loading. */
  discardedMs: number;
  /** Times the job has been preempted, this one included. */
  preemptions: number;
}

const RECENT_SWAPS = 10;

export type LiveListener = (jobId: string, update: JobProgress) => void;

type WorkerConfig = Pick<Config, "agingCapMs" | "maxAttempts" | "retryBaseMs" | "idleTimeoutMs" | "preemptAfterMs" | "preemptMax" | "jobMaxRunMs" | "interactiveMaxRunMs">;

/** A job on the target: what the worker needs to end it. */
interface Run {
  job: JobRecord;
  /** The waiting caller of a passthrough request. */
  request: InteractiveRequest | undefined;
  kind: JobKind;
  abort: AbortController;
  since: number;
  state: "loading" | "working";
  /** The load sending it makes the target do, counted once the target's reply shows it happened. */
  load?: PlannedLoad;
  /** When the target's first byte came (the job went working). */
  workingSince?: number;
  /** A cancel asked for while it ran: how it ends, whatever else stopped it. */
  canceled?: Canceled;
  /** What an async job has generated so far, for a subscriber that attaches mid-job. */
  output?: { text: string; characters: number; chunks: number; tokens: number };
  /** The load time, when the write that marks the job working failed: its end records it instead. */
  loadMs?: number;
  /** Stops the attempt at its run-time cap, counted from the first byte (ADR 0035). */
  capTimer?: ReturnType<typeof setTimeout>;
}

/** A load the worker expects a job to cause: the drain key whose runner it replaces, if any. */
interface PlannedLoad {
  from: string | undefined;
  reload: boolean;
}

/**
 * How a job that left the target ends. `write` runs inside the next handoff and has no effect
 * outside the database but through `queue.whenCommitted`, so a handoff that fails to commit can
 * run it again: the end is kept and written at each handoff until one commits.
 */
interface Ending {
  job: JobRecord;
  /** The waiting passthrough caller, answered once the end is written (or with a 503 when it cannot be). */
  request: InteractiveRequest | undefined;
  write(): void;
}

/** Hears of a job whose end the worker could not write (it keeps trying): waiting callers answer 503. */
export type UnrecordedListener = (jobId: string, error: Error) => void;

const PROGRESS_EVERY_MS = 250;
/** How long the end of a job that loaded a model waits for /api/ps to say what else is still resident. */
const RESIDENT_CHECK_WAIT_MS = 1000;

/** What a log line about a job names: the job, and the request that made it (a passthrough request's own id). */
const ids = (job: JobRecord) => (job.requestId === null ? { job_id: job.id } : { job_id: job.id, request_id: job.requestId });

export class Worker {
  stats: WorkerStats = { jobs: 0, loads: 0, swaps: 0, reloads: 0, preemptions: 0, discardedMs: 0 };
  /** The last swaps, newest first, for /status. */
  readonly recentSwaps: Swap[] = [];
  lastPreemption: Preemption | null = null;
  /** Attempts stopped at their run-time cap, by lane (ADR 0035). */
  readonly runCaps: Record<LaneName, number> = { async: 0, interactive: 0 };
  private looping = false;
  private stopped = true;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  /** After foreman's own failure (its database), the worker waits until then. */
  private pausedUntil = 0;
  private pauseTimer: ReturnType<typeof setTimeout> | undefined;
  /** Wakes the worker when the next job's back-off ends. */
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Looks again at preempting the running job when the oldest waiting request reaches the threshold. */
  private preemptTimer: ReturnType<typeof setTimeout> | undefined;
  private current: Run | undefined;
  /** The drain key of the last work sent to the target. */
  private lastKey: string | undefined;
  /** For each model foreman loaded, the drain key it loaded it for: the options its runner has. */
  private readonly loadedFor = new Map<string, string>();
  /** A preempted job's drain key: the drain to go on with once the interactive work is done. */
  private resume: string | undefined;
  private readonly leftAt: Record<string, number> = {};
  private readonly interactive = new Map<string, InteractiveRequest>();
  private readonly live = new Set<LiveListener>();
  private readonly unrecordedListeners = new Set<UnrecordedListener>();
  /** The end of the last job, until a handoff commits it. */
  private ending: Ending | undefined;
  /** Why the last handoff failed, while its end waits to be written. */
  private unrecordedBecause: string | undefined;
  private idle: PromiseWithResolvers<void> | undefined;

  constructor(
    private readonly queue: Queue,
    private readonly target: TargetClient,
    private readonly poller: Poller,
    private readonly config: WorkerConfig,
    private readonly log: Logger,
    private readonly heartbeatMs = 1000,
  ) {
    // A target that stops answering its liveness probe will not answer this request either
    // (a sleeping Mac often drops packets instead of refusing them): hand the work back now
    // rather than after the first-byte or idle timeout.
    poller.onChange((up) => {
      if (up) this.wake();
      else this.current?.abort.abort(new TargetUnreachable("the target stopped answering its liveness probe"));
    });
    // Work put in the queue (a submission, a passthrough request, a retry) wakes the worker once
    // it is committed. A passthrough request is forgotten once its job has ended, whoever ended
    // it (its run, its caller gone, its maximum wait): a request taken may come back to the
    // queue (the target unreachable, a reset re-sent) and must be found again.
    queue.onCommitted((job, event) => {
      if (event.type === "queued") this.wake();
      else if (isTerminal(event.type)) this.interactive.delete(job.id);
    });
    // a batch's held lines made runnable (ADR 0041)
    queue.onRunnable(() => this.wake());
  }

  /** Starts taking work: a heartbeat, and a first look at the queue now. */
  start(): void {
    this.stopped = false;
    this.heartbeat = setInterval(() => this.wake(), this.heartbeatMs);
    this.wake();
  }

  get state(): WorkerState {
    if (this.current) return { kind: this.current.state, jobId: this.current.job.id, model: this.current.job.model, since: this.current.since };
    const unrecorded = this.unrecordedEnd;
    if (unrecorded) return { kind: "paused", reason: `${unrecorded}; trying again`, until: this.pausedUntil };
    if (this.poller.up === false) return { kind: "paused", reason: "target down" };
    if (Date.now() < this.pausedUntil) return { kind: "paused", reason: "recovering from an error of foreman's own", until: this.pausedUntil };
    return { kind: "idle" };
  }

  /** Why the end of the last job is not written yet (the worker keeps trying), or undefined. */
  get unrecordedEnd(): string | undefined {
    return this.ending && this.unrecordedBecause !== undefined ? `cannot record the end of job ${this.ending.job.id}: ${this.unrecordedBecause}` : undefined;
  }

  /** Streams of generated text, for live views of running jobs. */
  onLive(listener: LiveListener): () => void {
    this.live.add(listener);
    return () => this.live.delete(listener);
  }

  /** The text the running job has generated so far, as one update from its start (offset 0): what a late subscriber gets first. */
  liveSoFar(jobId: string): JobProgress | null {
    const output = this.current?.job.id === jobId ? this.current.output : undefined;
    return output ? { chunks: output.chunks, tokens: output.tokens, text: output.text, offset: 0 } : null;
  }

  /** Hears of each failed attempt to write a job's end (every second or so until one succeeds). */
  onUnrecorded(listener: UnrecordedListener): () => void {
    this.unrecordedListeners.add(listener);
    return () => this.unrecordedListeners.delete(listener);
  }

  /** A passthrough request waits in the queue as `jobId`; the worker calls it when its turn comes. */
  attach(jobId: string, request: InteractiveRequest): void {
    this.interactive.set(jobId, request);
    this.reconsider();
  }

  /**
   * Cancels a queued job. A passthrough caller waiting on it is answered once the cancel has
   * committed — Ollama's 499 for a request canceled before it ran, with the reason — instead of
   * being forgotten with the record (ADR 0043).
   */
  cancelQueued(jobId: string, reason: string): JobRecord {
    const request = this.interactive.get(jobId);
    const canceled = this.queue.cancel(jobId, reason);
    request?.fail(CANCELED_STATUS, reason);
    return canceled;
  }

  /** Aborts the job if it is the one running; returns whether it was. */
  cancelRunning(jobId: string, reason: string): boolean {
    if (this.current?.job.id !== jobId) return false;
    // kept apart from the abort: a run already stopped for another reason (preempted, the
    // target gone) still ends canceled instead of going back to the queue
    this.current.canceled = new Canceled(reason);
    this.current.abort.abort(this.current.canceled);
    return true;
  }

  wake(): void {
    if (this.looping || this.stopped) return;
    this.looping = true;
    queueMicrotask(() => void this.loop());
  }

  /**
   * Stops taking work. Passthrough callers still waiting in the queue get a 503 at once; a
   * running async job is aborted and handed back to the queue; a running passthrough request
   * may finish within `graceMs`, then it is aborted too.
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.pauseTimer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.preemptTimer);
    for (const [jobId, request] of this.interactive) {
      if (jobId === this.current?.job.id) continue;
      this.interactive.delete(jobId);
      if (this.queue.get(jobId)?.status === "queued") this.queue.cancel(jobId, "foreman is shutting down");
      request.fail(503, "foreman is shutting down; try again shortly");
    }
    if (!this.looping) return this.lastTryToEnd();
    this.idle ??= Promise.withResolvers<void>();
    const abort = () => this.current?.abort.abort(new ShuttingDown("foreman is shutting down"));
    if (this.current?.job.lane === INTERACTIVE && graceMs > 0) {
      const timer = setTimeout(abort, graceMs);
      await this.idle.promise;
      clearTimeout(timer);
    } else {
      abort();
      await this.idle.promise;
    }
    this.lastTryToEnd();
  }

  /** Shutting down with an end still unwritten: one more try; if it fails too, start-up recovery requeues the job. */
  private lastTryToEnd(): void {
    const ending = this.ending;
    if (!ending) return;
    try {
      this.queue.atomically(() => ending.write());
      this.ending = undefined;
    } catch (err) {
      this.log.error("could not record the end of a job at shutdown; the next start requeues it", { ...ids(ending.job), error: (err as Error).message });
    }
  }

  /**
   * Runs jobs until there is nothing to run. Between two jobs the worker writes one deferred
   * commit (ADR 0016): the end of the job that finished and the start of the next, with no
   * await in between, so no state is held back from the database while anything else runs.
   * Each asks for its sync as it commits (ADR 0016); what it publishes waits for that sync.
   */
  private async loop(): Promise<void> {
    try {
      for (;;) {
        let run: Run | null;
        const ending = this.ending;
        try {
          run = this.queue.atomically(() => {
            ending?.write();
            return this.runnable() ? this.startNext() : null;
          }, "deferred");
        } catch (err) {
          this.handoffFailed(err);
          break;
        }
        this.ending = undefined;
        this.unrecordedBecause = undefined;
        if (!run) break;
        this.reconsider();
        this.ending = await this.execute(run);
      }
    } catch (err) {
      this.log.error("worker loop error", { error: (err as Error).stack ?? String(err) });
      this.pauseFor(1000);
    } finally {
      this.looping = false;
      // paused or stopped, the poller, the pause or a restart wakes it instead
      if (this.runnable()) this.wakeForNextRetry();
      this.idle?.resolve();
    }
  }

  /**
   * The handoff did not commit (most likely the database: a full disk, an I/O error), so nothing
   * in it happened. The end of the last job is tried again alone; if that fails too, it stays to
   * be written at the next handoff, and whoever waits on that job hears a 503 meanwhile. The next
   * job stays queued, its passthrough caller (if any) answered 503 at once; and the worker backs
   * off instead of spinning.
   */
  private handoffFailed(err: unknown): void {
    const next = this.current?.job;
    this.current = undefined;
    const ending = this.ending;
    if (ending && next) {
      // the next job's start may be what failed: the end alone must not wait for it
      try {
        this.queue.atomically(() => ending.write(), "deferred");
        this.ending = undefined;
        this.unrecordedBecause = undefined;
      } catch (alone) {
        err = alone;
      }
    }
    const message = (err as Error).message ?? String(err);
    if (this.ending) {
      const { job } = this.ending;
      if (this.unrecordedBecause === undefined) this.log.error("worker could not record the end of a job; trying again", { ...ids(job), error: (err as Error).stack ?? message });
      this.unrecordedBecause = message;
      this.ending.request?.fail(503, `foreman could not record the end of this request: ${message}`);
      const error = err instanceof Error ? err : new Error(message);
      for (const l of this.unrecordedListeners) l(job.id, error);
    } else {
      this.log.error("worker could not run a job", { ...(next ? ids(next) : {}), error: (err as Error).stack ?? message });
    }
    if (next) {
      this.interactive.get(next.id)?.fail(503, `foreman could not run this request: ${message}`);
      this.interactive.delete(next.id);
    }
    this.pauseFor(1000);
  }

  private runnable(): boolean {
    return !this.stopped && this.poller.up !== false && Date.now() >= this.pausedUntil;
  }

  /** The worker waits this long before looking at the queue again. */
  private pauseFor(ms: number): void {
    this.pausedUntil = Date.now() + ms;
    clearTimeout(this.pauseTimer);
    this.pauseTimer = setTimeout(() => this.wake(), ms);
  }

  /** Nothing to run now: look again when the next job's back-off ends (ADR 0017). */
  private wakeForNextRetry(): void {
    clearTimeout(this.retryTimer);
    let at: number | null;
    try {
      at = this.queue.nextRelease();
    } catch (err) {
      // the database failed: the heartbeat looks again
      this.log.error("worker could not read the next retry time", { error: (err as Error).message });
      return;
    }
    if (at !== null) this.retryTimer = setTimeout(() => this.wake(), delayUntil(at, Date.now()));
  }

  /**
   * The drain keys resident on the target, most recently used first: the poller's list is in
   * that order, and every run notes its model there; a resident model foreman did not load is
   * taken as loaded with the model's defaults.
   */
  private residentKeys(): string[] {
    return this.poller.resident.map((model) => this.loadedFor.get(model) ?? model);
  }

  /** What the queue's forecast starts from (ADR 0038): the state the next choice is made in, and the work on the target now. */
  outlook(): WorkerOutlook {
    const run = this.current;
    return {
      resident: this.residentKeys(),
      agingCapMs: this.config.agingCapMs,
      leftAt: { ...this.leftAt },
      ...(this.resume === undefined ? {} : { resume: this.resume }),
      ...(this.lastKey === undefined ? {} : { lastKey: this.lastKey }),
      running: run ? { job: run.job, since: run.since, load: run.load !== undefined } : null,
    };
  }

  private pick(): JobRecord | null {
    this.queue.releaseDue(Date.now());
    const choice = chooseNext(this.queue.heads(), { resident: this.residentKeys(), now: Date.now(), agingCapMs: this.config.agingCapMs, leftAt: this.leftAt, resume: this.resume });
    return choice ? this.queue.get(choice.id) : null;
  }

  /**
   * Whether the running job makes way for the interactive request that has waited longest — now,
   * or at a time to look again (ADR 0020). Asked when a request arrives, when a run starts or its
   * first byte comes, and at the time it names; a preempted job ends through execute().
   */
  private reconsider(): void {
    clearTimeout(this.preemptTimer);
    const run = this.current;
    if (!run || run.abort.signal.aborted) return;
    let waiting;
    try {
      waiting = this.queue.oldestInteractive();
    } catch (err) {
      this.log.error("worker could not read the waiting requests", { error: (err as Error).message });
      return;
    }
    const { job } = run;
    const running = { interactive: job.lane === INTERACTIVE, state: run.state, drainKey: job.drainKey, preemptible: job.preemptible, preemptions: job.preemptions };
    const now = Date.now();
    const decision = preemption(running, waiting, { afterMs: this.config.preemptAfterMs, maxPerJob: this.config.preemptMax }, now);
    if (decision.kind === "now") run.abort.abort(new Preempted(waiting!.id, now));
    else if (decision.kind === "at") this.preemptTimer = setTimeout(() => this.reconsider(), decision.at - now);
  }

  /** Inside the handoff: the next job that can run, marked loading or working; null when none can. */
  private startNext(): Run | null {
    for (let job = this.pick(); job; job = this.pick()) {
      const run = this.begin(job);
      if (run) return run;
    }
    return null;
  }

  private begin(job: JobRecord): Run | null {
    // its start_by passed before the expiry sweep got to it: it never starts (ADR 0035)
    if (job.startBy !== null && notYetStarted(job) && Date.now() >= job.startBy) {
      this.queue.expire(job.id);
      return null;
    }
    const request = job.lane === INTERACTIVE ? this.interactive.get(job.id) : undefined;
    if (job.lane === INTERACTIVE && !request) {
      this.queue.cancel(job.id, "the caller went away before its turn");
      return null;
    }
    const kind = request?.kind ?? kindOf(job.endpoint);
    if (!kind) {
      this.queue.fail(job.id, { status: 400, message: `foreman cannot run endpoint ${job.endpoint}` });
      return null;
    }
    const since = Date.now();
    if (this.lastKey && this.lastKey !== job.drainKey) this.leftAt[this.lastKey] = since;
    if (job.lane !== INTERACTIVE) this.resume = undefined;
    const load = this.plannedLoad(job);
    const run: Run = { job, request, kind, abort: new AbortController(), since, state: load ? "loading" : "working", ...(load ? { load } : {}) };
    // current before the write: if the write fails, the loop fails the waiting caller by it
    this.current = run;
    this.queue.begin(job.id, run.state, since - job.queuedAt);
    return run;
  }

  /**
   * The load sending `job` makes the target do, if any: its model is not resident, or its runner
   * was loaded for other load-time options that force a reload (ADR 0021).
   */
  private plannedLoad(job: JobRecord): PlannedLoad | null {
    const resident = this.poller.isResident(job.model);
    const loadedFor = this.loadedFor.get(job.modelKey);
    const reload = resident && loadedFor !== undefined && reloadsBetween(loadedFor, job.drainKey);
    if (resident && !reload) {
      // a runner foreman did not load (or loaded before a restart) is taken to have what this job asks
      if (loadedFor === undefined) this.loadedFor.set(job.modelKey, job.drainKey);
      return null;
    }
    return { from: reload ? loadedFor : (this.lastKey ?? this.poller.resident[0]), reload };
  }

  /** Counts a load, and a swap when it replaced a resident runner, once the target's reply shows it loaded (ADR 0034). */
  private countLoad(job: JobRecord, load: PlannedLoad, at: number): void {
    this.stats.loads++;
    this.loadedFor.set(job.modelKey, job.drainKey);
    // a model loaded again after it left on its own (keep_alive) replaced nothing
    const { from, reload } = load;
    if (from && (reload || parseDrainKey(from).modelKey !== job.modelKey)) {
      this.stats.swaps++;
      if (reload) this.stats.reloads++;
      this.recentSwaps.unshift({ at, from, to: job.drainKey, reload });
      this.recentSwaps.length = Math.min(this.recentSwaps.length, RECENT_SWAPS);
    }
  }

  /** Sends the job to the target and reads the reply; returns how to write its end (never throws). */
  private async execute(run: Run): Promise<Ending> {
    const { job, request, kind, since } = run;
    const signal = request ? AbortSignal.any([run.abort.signal, request.signal]) : run.abort.signal;
    let outcome: Outcome | { kind: "gone" };
    let firstByteMs: number;
    let residentChecked: Promise<void> | undefined;
    /** Set when the run loaded its model: the wait for the first byte was the load (ms). */
    let loadMs: number | undefined;
    try {
      const body = request ? request.body : JSON.stringify(kind.jobBody(JSON.parse(this.queue.requestOf(job.id) ?? "{}") as Record<string, unknown>));
      // an async job's request is read back and parsed to be encoded again: those copies are
      // garbage now, the encoded one once sent (ADR 0029)
      const copied = typeof body === "string" ? body.length : 0;
      collectAfter(copied);
      const res = await this.target.send(request?.path ?? kind.endpoint, { method: "POST", body, headers: this.target.headers(request?.headers), signal });
      collectAfter(copied);
      firstByteMs = Date.now() - since;
      run.workingSince = Date.now();
      this.startRunCap(run);
      // a 4xx (an unknown model, a bad request) is answered without loading anything: what was
      // resident still is, and nothing was loaded
      if (res.status < 400 || res.status >= 500) {
        if (run.load) this.countLoad(job, run.load, since);
        this.lastKey = job.drainKey;
        this.poller.noteResident(job.model);
        // a load may have evicted other runners (the target's own limit, which foreman does not
        // know): ask /api/ps now, so the next job's planned load is not judged on a stale list
        if (run.load) residentChecked = this.poller.refreshResident();
      }
      if (run.state === "loading" && res.ok) {
        loadMs = firstByteMs;
        run.state = "working";
        try {
          this.queue.markWorking(job.id, firstByteMs);
        } catch (err) {
          // the job goes on: it shows loading until its end is written, and the end records the load time
          run.loadMs = firstByteMs;
          this.log.error("could not record that a job is working; its end will", { ...ids(job), error: (err as Error).message });
        }
        this.reconsider();
      }
      outcome = request ? await request.deliver(res, signal) : await consumeReply(kind, res, this.config.idleTimeoutMs, signal, this.progress(run));
    } catch (err) {
      const why = run.canceled ?? err;
      return { job, request, write: () => this.end(run, this.attemptStopped(run, why)) };
    } finally {
      this.current = undefined;
      clearTimeout(this.preemptTimer);
      clearTimeout(run.capTimer);
    }
    const endedAt = Date.now(); // not when the end is written: that may be later (ADR 0028)
    // the answer is usually in before the reply ends; a target slow to give it does not hold the end
    if (residentChecked) await Promise.race([residentChecked, Bun.sleep(RESIDENT_CHECK_WAIT_MS)]);
    return { job, request, write: () => this.finish(run, outcome, firstByteMs, endedAt, loadMs) };
  }

  /** Arms the attempt's run-time cap, if its lane or the job has one: at the cap the attempt is aborted, as a cancel does. */
  private startRunCap(run: Run): void {
    const { job } = run;
    const capMs = job.lane === INTERACTIVE ? runCapMs(null, this.config.interactiveMaxRunMs) : runCapMs(job.maxRunMs, this.config.jobMaxRunMs);
    if (capMs === null) return;
    run.capTimer = setTimeout(() => {
      const lane = laneName(job.lane);
      this.runCaps[lane]++;
      this.log.warn("run-time cap reached; the target request is stopped", { ...ids(job), lane, model: job.model, max_run_ms: capMs });
      run.abort.abort(new OverRunCap(capMs));
    }, capMs);
  }

  private progress(run: Run): (chunks: number, tokens: number, text: string) => void {
    const jobId = run.job.id;
    const output = (run.output = { text: "", characters: 0, chunks: 0, tokens: 0 });
    let last = Date.now();
    return (chunks, tokens, text) => {
      const offset = output.characters;
      Object.assign(output, { text: output.text + text, characters: offset + characters(text), chunks, tokens });
      const now = Date.now();
      if (now - last >= PROGRESS_EVERY_MS) {
        last = now;
        try {
          this.queue.progress(jobId, chunks, tokens);
        } catch (err) {
          // only a counter: the job goes on, and its end writes the final figures
          this.log.warn("could not record a job's progress", { job_id: jobId, error: (err as Error).message });
        }
      }
      for (const l of this.live) l(jobId, { chunks, tokens, text, offset });
    };
  }

  /** The end of an attempt whose reply was read: the log line, then its end as the table says. */
  private finish(run: Run, outcome: Outcome | { kind: "gone" }, firstByteMs: number, endedAt: number, loadMs: number | undefined): void {
    const { job, since } = run;
    const timings = { ttftMs: firstByteMs, totalMs: endedAt - since, ...(run.loadMs === undefined ? {} : { loadMs: run.loadMs }) };
    const usage = outcome.kind === "done" ? usageOf(outcome.reported, { loadMs, ttftMs: timings.ttftMs, totalMs: timings.totalMs }, outcome.tokens) : undefined;
    this.queue.whenCommitted(() => {
      this.stats.jobs++;
      if (!this.log.enabled("info")) return;
      const fields = { ...ids(job), lane: laneName(job.lane), model: job.model, outcome: outcome.kind, ttft_ms: timings.ttftMs, total_ms: timings.totalMs, ...(run.loadMs === undefined ? {} : { load_ms: run.loadMs }), ...(usage ? { usage } : {}) };
      this.log.info("job ran", outcome.kind === "error" ? { ...fields, status: outcome.status, error: outcome.message } : fields);
    });
    const attempt: Attempt =
      outcome.kind === "done"
        ? { kind: "done", progress: { chunks: outcome.chunks, tokens: outcome.tokens }, usage: usage!, artifact: outcome.artifact }
        : outcome.kind === "gone"
          ? { kind: "gone" }
          : // a reply a cancel broke off ends canceled, as one canceled before its first byte (ADR 0043)
            run.canceled
            ? { kind: "canceled", message: run.canceled.message }
            : { kind: "target error", status: outcome.status, message: outcome.message };
    this.end(run, attempt, timings);
  }

  /** How an attempt stopped by `err` (or by foreman: a cancel, a preemption, a shutdown, the run cap) ended. */
  private attemptStopped(run: Run, err: unknown): Attempt {
    const { job, request } = run;
    if (err instanceof Preempted) return { kind: "preempted", by: err.by, at: err.at, discardedMs: run.workingSince === undefined ? 0 : Math.max(0, err.at - run.workingSince) };
    // the count is kept in the job's events, so a restart does not reset it (ADR 0030)
    if (err instanceof TargetReset) {
      const drops = 1 + this.queue.events(job.id).reduce((n, e) => Math.max(n, typeof e.data?.drops === "number" ? e.data.drops : 0), 0);
      return { kind: "reset", message: err.message, drops };
    }
    if (err instanceof TargetUnreachable) return { kind: "unreachable", message: err.message };
    if (err instanceof Canceled) return { kind: "canceled", message: err.message };
    if (err instanceof OverRunCap) return { kind: "over run cap", message: err.message };
    if (err instanceof ShuttingDown) return { kind: "shutting down", message: err.message };
    if (request?.signal.aborted) return { kind: "caller left" };
    if (err instanceof TargetTimeout) return { kind: "timeout", message: err.message };
    if (err instanceof TargetDropped) return { kind: "dropped", message: err.message };
    this.queue.whenCommitted(() => this.log.error("job run failed unexpectedly", { ...ids(job), error: (err as Error)?.stack ?? String(err) }));
    return { kind: "unexpected", message: (err as Error)?.message ?? String(err) };
  }

  /**
   * Writes the end of `run`'s attempt with the operation the ending table names, and tells the
   * waiting caller once it commits. Inside the handoff: nothing leaves the database but through
   * `queue.whenCommitted`, so a handoff that fails can write it again (ADR 0028).
   */
  private end(run: Run, attempt: Attempt, timings?: Record<string, number>): void {
    const { job, request } = run;
    // read at each try: a handoff that failed wrote nothing
    const soFar = { caller: request !== undefined, failures: this.queue.get(job.id)!.failures };
    const { operation: op, reply, timings: withTimings } = endOf(attempt, soFar, { maxAttempts: this.config.maxAttempts, baseMs: this.config.retryBaseMs });
    const written = withTimings ? timings : undefined;
    let ended: JobRecord;
    switch (op.name) {
      case "complete":
        ended = this.queue.complete(job.id, { ...(written ? { timings: written } : {}), progress: op.progress, usage: op.usage, ...(op.artifact ? { artifact: op.artifact } : {}) });
        break;
      case "fail":
        ended = this.queue.fail(job.id, op.error, { failure: op.failure, ...(written ? { timings: written } : {}) });
        break;
      case "retryLater":
        ended = this.queue.retryLater(job.id, op.error, op.delayMs);
        break;
      case "requeue":
        ended = this.queue.requeue(job.id, op.reason, op.drops === undefined ? undefined : { drops: op.drops, toBack: op.toBack === true });
        break;
      case "preempt":
        ended = this.queue.preempt(job.id, op.by, op.discardedMs);
        break;
      case "cancel":
        ended = this.queue.cancel(job.id, op.reason, written);
        break;
    }
    this.afterEnd(run, attempt, op, ended);
    if (reply.kind === "fail") this.queue.whenCommitted(() => request?.fail(reply.status, reply.message));
    else if (reply.kind === "cut") this.queue.whenCommitted(() => request?.cut());
  }

  /** The worker's own bookkeeping for some ends: the poller asked, the drain to resume, counters and log lines once committed. */
  private afterEnd(run: Run, attempt: Attempt, op: Operation, ended: JobRecord): void {
    const { job } = run;
    switch (attempt.kind) {
      case "unreachable":
        // the worker waits for the poller to see the target again
        this.queue.whenCommitted(() => this.log.warn("target unreachable; job requeued", { ...ids(job), error: attempt.message }));
        this.poller.markDown(attempt.message);
        return;
      case "reset":
        // whether the target is down is the next liveness probe's to say, asked now (ADR 0030)
        this.queue.whenCommitted(() => {
          void this.poller.poll();
          this.log.warn("the target dropped a request before answering", { ...ids(job), drops: attempt.drops, next: op.name === "fail" ? "give up" : op.name === "requeue" && op.toBack ? "back" : "head" });
        });
        return;
      case "preempted": {
        // at the head of its group, and the drain goes on with it once the interactive work is done (ADR 0020); the next job is chosen in this same handoff
        this.resume = job.drainKey;
        const { by, at, discardedMs } = attempt;
        this.queue.whenCommitted(() => {
          this.stats.preemptions++;
          this.stats.discardedMs += discardedMs;
          this.lastPreemption = { at, jobId: job.id, model: job.model, by, discardedMs, preemptions: ended.preemptions };
          this.log.info("job preempted", { ...ids(job), by, model: job.model, discarded_ms: discardedMs, preemptions: ended.preemptions });
        });
        return;
      }
    }
  }
}
