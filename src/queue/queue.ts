// The durable queue: the only module that writes SQL for jobs. Enqueue is one committed
// transaction; every state change goes through transition(), which checks the state table,
// updates the job and appends its event — and whatever the outbox hooks add — atomically.
// Listeners outside the database (long-polls, the event stream, metrics) hear of a change only
// after the outermost transaction commits and that commit is on disk (ADR 0016), never of one
// that rolled back. A job's ending moves through named operations (begin, complete, fail,
// retryLater, requeue, preempt, cancel, expire) over transition()'s one UPDATE. The rows and their
// mapping live in rows.ts, the statements in statements.ts, the commit-then-publish machinery in
// transactions.ts.
import type { Database } from "bun:sqlite";
import { Durability } from "../store/durability.ts";
import { newId } from "../store/ids.ts";
import { checkTransition, type JobStatus } from "../contract/states.ts";
import { modelKey } from "../ollama/model-name.ts";
import { drainKey, type RequestedLoad } from "../ollama/load-options.ts";
import type { AgeEntry, BacklogReader, Candidate, FinishedSample, ModelHead, QueueHeads } from "./heads.ts";
import type { Usage } from "./usage-schema.ts";
import { INTERACTIVE, parse, snapshotOf, toBacklogJob, toCandidate, toEvent, toRecord, type JobError, type JobEvent, type JobRecord, type Lane, type Row, type Snapshot } from "./rows.ts";
import { HELD, statements, type Params, type Statements } from "./statements.ts";
import { Transactions, type Commit } from "./transactions.ts";

export { ASYNC, INTERACTIVE, type JobError, type JobEvent, type JobRecord, type Lane } from "./rows.ts";

export interface EnqueueInput {
  lane: Lane;
  endpoint: string;
  model: string;
  priority?: number;
  request?: string | null;
  metadata?: unknown;
  webhook?: unknown;
  idempotencyKey?: string | null;
  requestHash?: string | null;
  requestId?: string | null;
  /** The load-time options the request asks for (none: the model's defaults). */
  load?: RequestedLoad;
  /** false: never preempted (async jobs only; default true). */
  preemptible?: boolean;
  /** A scheduled start (ADR 0035): recorded as asked, and the job waits until then like a back-off. */
  runAfter?: number | null;
  /** Not started by then, the job is canceled as expired. */
  startBy?: number | null;
  /** A batch's line being queued: out of the scheduler until its batch releases it (`releaseHeld`, ADR 0041). */
  held?: boolean;
  maxRunMs?: number | null;
  client?: string | null;
  tag?: string | null;
}

export interface TransitionPatch {
  error?: JobError;
  artifact?: { contentType: string; body: Uint8Array | string };
  /** A dispatch to the target (counted on entering loading/working from queued). */
  attempt?: boolean;
  /** A failed attempt that counts against the retry bound. */
  failure?: boolean;
  /** Stopped for an interactive request: counted apart from failures (ADR 0020). */
  preempted?: boolean;
  timings?: Record<string, number>;
  /** Final progress, written with the state change instead of in a separate commit. */
  progress?: { chunks: number; tokens: number };
  /** Extra detail stored with the event (e.g. why a job went back to the queue). */
  data?: Record<string, unknown>;
  /** Back to the queue, but not to run before this time (ms): the job's own back-off. */
  notBefore?: number;
  /** When the change happens (the queue's clock), where the caller derived another time from it. */
  at?: number;
  /**
   * Back to the queue behind everything queued now (a new `seq`, the queue's order in both
   * lanes): a request the target dropped again (ADR 0030).
   */
  toBack?: boolean;
  /** What the finished job cost. */
  usage?: Usage;
}

/** Runs inside the transition's transaction: the outbox writes its rows here. */
export type EventHook = (job: JobRecord, event: JobEvent) => void;

/** Rows another module keeps per job (webhook deliveries): retention asks before removing a job. */
export interface JobDependents {
  /** Whether the job must stay (e.g. a webhook still to deliver). */
  holds(jobId: string): boolean;
  /** Removes the module's rows for the job, inside the pruning transaction. */
  remove(jobId: string): void;
}

/** Where retention stopped looking: it resumes after this finished job. */
export interface PruneCursor {
  finishedAt: number;
  seq: number;
}

/** The reason a job past its start_by was canceled with (ADR 0035). */
export const EXPIRED = "expired";

/**
 * Whether a job's `start_by` still applies (ADR 0035): no attempt of it has reached the target —
 * none failed (a retry, a restart mid-run), none was preempted. A dispatch that found the target
 * asleep does not count: that work never began.
 */
export const notYetStarted = (job: Pick<JobRecord, "failures" | "preemptions">): boolean => job.failures === 0 && job.preemptions === 0;

class JobNotFound extends Error {
  constructor(readonly id: string) {
    super(`job ${id} not found`);
  }
}

export class Queue {
  private readonly hooks: EventHook[] = [];
  private readonly committed: EventHook[] = [];
  private readonly dependents: JobDependents[] = [];
  private readonly runnable: (() => void)[] = [];
  /** Queued rows right now, kept in step with every commit (so no COUNT on the hot path). */
  private queuedNow: number;
  private readonly s: Statements;
  private readonly transactions: Transactions;

  constructor(
    readonly db: Database,
    private readonly clock: () => number = Date.now,
    /** Without one (tests of the queue alone), a commit counts as on disk at once. */
    readonly durability: Durability = new Durability(db, null, "normal"),
  ) {
    this.s = statements(db);
    this.transactions = new Transactions(db, durability);
    this.queuedNow = this.s.queuedCount.get()!.n;
  }

  /** Registers a hook that runs inside every transition's transaction (the outbox). */
  onEvent(hook: EventHook): void {
    this.hooks.push(hook);
  }

  /** Registers a listener that hears of each event once its transaction has committed and is on disk. */
  onCommitted(listener: EventHook): void {
    this.committed.push(listener);
  }

  /** Registers a listener that hears, once it is on disk, of held work made runnable without an event of its own (`releaseHeld`). */
  onRunnable(listener: () => void): void {
    this.runnable.push(listener);
  }

  /** Registers a listener for transactions that failed and rolled back (metrics count the database's refusals). */
  onFailed(listener: (err: unknown) => void): void {
    this.transactions.onFailed(listener);
  }

  /**
   * Runs `fn` in a transaction (a savepoint when nested): what it changes in memory takes effect
   * once the outermost one commits, what it publishes once that commit is on disk (transactions.ts).
   */
  atomically<T>(fn: () => T, commit: Commit = "synced"): T {
    return this.transactions.atomically(fn, commit);
  }

  /** Runs `work` once the current transaction commits (at once outside a transaction). */
  whenCommitted(work: () => void): void {
    this.transactions.whenCommitted(work);
  }

  /** Runs `work` once the current transaction has committed and is on disk: what tells the outside. */
  whenDurable(work: () => void): void {
    this.transactions.whenDurable(work);
  }

  /** Resolves once every commit so far is on disk: a reply built from the queue waits for it. */
  settled(): Promise<void> {
    return this.durability.settled();
  }

  /** Registers rows another module keeps per job, so retention removes them with the job. */
  addDependents(dependents: JobDependents): void {
    this.dependents.push(dependents);
  }

  /** How many jobs are queued (all lanes). */
  get queuedCount(): number {
    return this.queuedNow;
  }

  /**
   * A passthrough record is deferred: its caller holds the request, and a restart cancels it
   * anyway, so it never waits for the disk.
   */
  enqueue(input: EnqueueInput): JobRecord {
    return this.atomically(() => {
      const now = this.clock();
      const key = modelKey(input.model);
      const row: Row = {
        seq: 0,
        id: newId(now),
        lane: input.lane,
        endpoint: input.endpoint,
        model: input.model,
        model_key: key,
        drain_key: drainKey(key, input.load ?? {}),
        priority: input.priority ?? 0,
        status: "queued",
        metadata: input.metadata === undefined ? null : JSON.stringify(input.metadata),
        webhook: input.webhook === undefined ? null : JSON.stringify(input.webhook),
        idempotency_key: input.idempotencyKey ?? null,
        request_hash: input.requestHash ?? null,
        attempts: 0,
        failures: 0,
        created_at: now,
        queued_at: now,
        started_at: null,
        finished_at: null,
        updated_at: now,
        progress_chunks: 0,
        progress_tokens: 0,
        error: null,
        timings: null,
        request_id: input.requestId ?? null,
        not_before: null,
        preemptible: input.preemptible === false ? 0 : 1,
        preemptions: 0,
        run_after: input.runAfter ?? null,
        start_by: input.startBy ?? null,
        max_run_ms: input.maxRunMs ?? null,
        usage: null,
        client: input.client ?? null,
        tag: input.tag ?? null,
        // a batch's line is attached to its batch after it is queued (Batches.attach, ADR 0039)
        batch_id: null,
        custom_id: null,
      };
      // a scheduled start waits as a back-off does: out of the scheduler's indexes until then
      row.not_before = input.held ? HELD : row.run_after !== null && row.run_after > now ? row.run_after : null;
      row.seq = this.s.insert.run({
        id: row.id,
        lane: row.lane,
        endpoint: row.endpoint,
        model: row.model,
        modelKey: row.model_key,
        drainKey: row.drain_key,
        priority: row.priority,
        request: input.request ?? null,
        metadata: row.metadata,
        webhook: row.webhook,
        idem: row.idempotency_key,
        hash: row.request_hash,
        requestId: row.request_id,
        preemptible: row.preemptible,
        runAfter: row.run_after,
        startBy: row.start_by,
        maxRunMs: row.max_run_ms,
        notBefore: row.not_before,
        client: row.client,
        tag: row.tag,
        now,
      }).lastInsertRowid as number;
      const job = toRecord(row);
      // a new async job is behind everything queued (its seq is the highest): the count POST /jobs
      // reports; a passthrough request only behind the other waiting requests, a short count
      const position = input.lane === INTERACTIVE ? this.position(job) : this.queuedNow;
      this.appendEvent(job, "queued", now, { queue_position: position });
      this.whenCommitted(() => this.queuedNow++);
      return job;
    }, input.lane === INTERACTIVE ? "deferred" : "synced");
  }

  get(id: string): JobRecord | null {
    const row = this.s.get.get(id);
    return row ? toRecord(row) : null;
  }

  /** The job's target request body (JSON text), read only to send it; null for passthrough, whose caller holds it. */
  requestOf(id: string): string | null {
    return this.s.request.get(id)?.request ?? null;
  }

  byIdempotencyKey(key: string): JobRecord | null {
    const row = this.s.byKey.get(key);
    return row ? toRecord(row) : null;
  }

  /** Moves a job to another state, atomically with its event (and outbox rows). */
  transition(id: string, to: JobStatus, patch: TransitionPatch = {}, commit: Commit = "synced"): JobRecord {
    return this.atomically(() => {
      const current = this.s.state.get(id);
      if (!current) throw new JobNotFound(id);
      checkTransition(current.status, to);
      const now = patch.at ?? this.clock();
      this.s.transition.run({
        id,
        to,
        now,
        attempt: patch.attempt ? 1 : 0,
        failure: patch.failure ? 1 : 0,
        preempted: patch.preempted ? 1 : 0,
        error: patch.error ? JSON.stringify(patch.error) : null,
        chunks: patch.progress?.chunks ?? null,
        tokens: patch.progress?.tokens ?? null,
        timings: patch.timings ? JSON.stringify({ ...(parse(current.timings) as Record<string, number> | null), ...patch.timings }) : null,
        notBefore: to === "queued" ? (patch.notBefore ?? null) : null,
        usage: patch.usage ? JSON.stringify(patch.usage) : null,
      });
      if (to === "queued" && patch.toBack) this.s.toBack.run(id);
      if (patch.artifact) {
        const { contentType, body } = patch.artifact;
        this.s.artifact.run(id, contentType, typeof body === "string" ? new TextEncoder().encode(body) : body, now);
      }
      const job = toRecord(this.s.get.get(id)!);
      const data = patch.data ?? (patch.error ? { error: patch.error } : null);
      // back in the queue (a retry, a preemption, the target gone, a restart: rare) with its place then
      this.appendEvent(job, to, now, to === "queued" ? { ...data, queue_position: this.position(job) } : data);
      const delta = (to === "queued" ? 1 : 0) - (current.status === "queued" ? 1 : 0);
      if (delta !== 0) this.whenCommitted(() => (this.queuedNow += delta));
      return job;
    }, commit);
  }

  // The named operations (issue 21, after River's executor): each one way a job's state moves,
  // over the same single UPDATE as transition(), with what it writes and its event's data fixed here.

  /** A job is sent to the target: its attempt counted, `loading` when its model must load first. */
  begin(id: string, state: "loading" | "working", queueMs: number): JobRecord {
    return this.transition(id, state, { attempt: true, timings: { queueMs } });
  }

  /** The target's first byte came after a load (`loadMs`): the job generates now. Deferred: the job's end syncs it. */
  markWorking(id: string, loadMs: number): JobRecord {
    return this.transition(id, "working", { timings: { loadMs } }, "deferred");
  }

  /** The job is done: its final progress, what it cost, its artifact (async jobs). */
  complete(id: string, done: { progress: { chunks: number; tokens: number }; usage: Usage; artifact?: { contentType: string; body: Uint8Array | string }; timings?: Record<string, number> }): JobRecord {
    return this.transition(id, "done", { ...(done.timings ? { timings: done.timings } : {}), progress: done.progress, usage: done.usage, ...(done.artifact ? { artifact: done.artifact } : {}) });
  }

  /** The job failed for good; `failure`: the attempt counts against the retry bound. */
  fail(id: string, error: JobError, how: { failure?: boolean; timings?: Record<string, number> } = {}): JobRecord {
    return this.transition(id, "failed", { ...(how.failure ? { failure: true } : {}), ...(how.timings ? { timings: how.timings } : {}), error });
  }

  /** A failed attempt: back to the queue, not to run before its back-off of `delayMs` has passed (ADR 0017), counted from the change itself. */
  retryLater(id: string, error: JobError, delayMs: number): JobRecord {
    const at = this.clock();
    const notBefore = at + delayMs;
    return this.transition(id, "queued", { at, failure: true, notBefore, data: { reason: error.message, status: error.status, retry_in_ms: delayMs, retry_at: new Date(notBefore).toISOString() } });
  }

  /**
   * Back to the queue through no fault of the job (the target asleep, a shutdown); a request the
   * target dropped keeps its `drops` and may go `toBack` of its lane (ADR 0030).
   */
  requeue(id: string, reason: string, dropped?: { drops: number; toBack: boolean }): JobRecord {
    return this.transition(id, "queued", dropped ? { toBack: dropped.toBack, data: { reason, drops: dropped.drops } } : { data: { reason } });
  }

  /** Stopped for an interactive request `by` (ADR 0020): queued as before it ran, its partial output discarded. */
  preempt(id: string, by: string, discardedMs: number): JobRecord {
    return this.transition(id, "queued", { preempted: true, progress: { chunks: 0, tokens: 0 }, data: { reason: "preempted", by, discarded_ms: discardedMs } });
  }

  /** The job is canceled, saying why. */
  cancel(id: string, reason: string, timings?: Record<string, number>): JobRecord {
    return this.transition(id, "canceled", { ...(timings ? { timings } : {}), data: { reason } });
  }

  private appendEvent(job: JobRecord, type: JobStatus, at: number, data: Record<string, unknown> | null): void {
    const id = this.s.event.run(job.id, type, at, data === null ? null : JSON.stringify(data), JSON.stringify(snapshotOf(job))).lastInsertRowid as number;
    const event: JobEvent = { id, jobId: job.id, type, at, data };
    for (const hook of this.hooks) hook(job, event);
    const publish = () => this.committed.forEach((l) => l(job, event));
    // A job's state change asks for its sync as it commits, whoever listens: nothing is left
    // off the disk when the worker goes idle. Nobody outside acts on a passthrough record (its
    // caller gets the target's reply itself, a restart cancels it): it never asks for one.
    if (job.lane !== INTERACTIVE) this.whenDurable(publish);
    else if (this.committed.length > 0) this.whenCommitted(publish);
  }

  /** Throttled by the caller; no event, no outbox, never synced on its own: it rides along with the next sync. */
  progress(id: string, chunks: number, tokens: number): void {
    this.atomically(() => this.s.progress.run(chunks, tokens, this.clock(), id), "deferred");
  }

  /**
   * The held lines of a batch become runnable, all in this one statement (ADR 0041): the commit
   * around it is the batch's one durable step. Their `queued` events were written as they were
   * held; the worker and the waker hear of the release once it is on disk. Returns how many.
   */
  releaseHeld(batchId: string): number {
    return this.atomically(() => {
      const n = this.s.releaseHeld.run(batchId).changes;
      this.whenDurable(() => this.runnable.forEach((l) => l()));
      return n;
    });
  }

  /**
   * Removes the held lines of a batch that will not be queued after all (cancelled or failed
   * while queueing, ADR 0041), with their events and dependents' rows: none of them ever ran or
   * could. Returns how many.
   */
  dropHeld(batchId: string): number {
    return this.atomically(() => {
      const held = this.s.held.all(batchId);
      for (const { id } of held) {
        for (const d of this.dependents) d.remove(id);
        this.s.deleteEvents.run(id);
        this.s.deleteJob.run(id);
      }
      if (held.length > 0) this.whenCommitted(() => (this.queuedNow -= held.length));
      return held.length;
    });
  }

  /** Jobs whose back-off ended by `now` can run again; returns how many. Writes only when some did. */
  releaseDue(now: number): number {
    const next = this.nextRelease();
    return next !== null && next <= now ? this.s.release.run(now).changes : 0;
  }

  /** When the next backing-off job may run again, or null when none is backing off. */
  nextRelease(): number | null {
    return this.s.nextRelease.get()!.at;
  }

  /** Queued jobs whose scheduled start or back-off has not come by `now`: not work for the target yet. */
  notDueCount(now: number): number {
    return this.s.notDue.get(now)!.n;
  }

  /**
   * Expiry (ADR 0035): up to `batch` queued jobs never started whose start_by has come are
   * canceled with the reason `expired`, each through transition() (its event and webhook), in
   * one commit. Returns how many.
   */
  expireDue(now: number, batch = 1000): number {
    const due = this.s.expiring.all(now, batch);
    if (due.length === 0) return 0;
    return this.atomically(() => {
      for (const { id } of due) this.expire(id);
      return due.length;
    });
  }

  /** Cancels a queued job past its start_by, with the reason `expired`. */
  expire(id: string): JobRecord {
    return this.cancel(id, EXPIRED);
  }

  /** When the next queued job expires (its start_by), or null. */
  nextExpiry(): number | null {
    return this.s.nextExpiry.get()!.at;
  }

  /** The heads the scheduler chooses from: a handful of index seeks, whatever the queue length. */
  heads(): QueueHeads {
    const models: ModelHead[] = [];
    for (const { k } of this.s.models.all()) {
      const best = this.s.best.get(k)!;
      const oldest = this.s.oldest.get(k)!;
      models.push({ drainKey: k, best: toCandidate(best), oldestQueuedAt: oldest.created_at });
    }
    return { interactive: this.oldestInteractive(), models };
  }

  /** The passthrough request that has waited longest (it runs next), or null: one index seek. */
  oldestInteractive(): Candidate | null {
    const row = this.s.interactive.get();
    return row ? toCandidate(row) : null;
  }

  /** The queued work as the forecast reads it (ADR 0038): each order the scheduler takes from, a page at a time. */
  backlog(): BacklogReader {
    const { s } = this;
    return {
      drainKeys: () => s.models.all().map(({ k }) => k),
      best: (k, offset, limit) => s.backlogBest.all(k, limit, offset).map(toBacklogJob),
      byAge: (k, offset, limit) => s.backlogAge.all(k, limit, offset).map((r): AgeEntry => ({ id: r.id, seq: r.seq, queuedAt: r.created_at })),
      interactive: (limit) => s.backlogInteractive.all(limit).map(toBacklogJob),
      later: (offset, limit) => s.backlogLater.all(limit, offset).map((r) => ({ ...toBacklogJob(r), notBefore: r.not_before! })),
    };
  }

  /** What the last `limit` jobs that ended done measured on the target, newest first. */
  finishedSamples(limit: number): FinishedSample[] {
    const samples: FinishedSample[] = [];
    for (const r of this.s.finishedRecent.all(limit)) {
      const t = parse(r.timings) as Record<string, number> | null;
      if (t?.ttftMs === undefined || t.totalMs === undefined) continue;
      samples.push({ modelKey: r.model_key, endpoint: r.endpoint, loadMs: t.loadMs, ttftMs: t.ttftMs, totalMs: t.totalMs, tokens: r.progress_tokens });
    }
    return samples;
  }

  /**
   * One lane's work newest first (async jobs, or passthrough records), optionally by status,
   * model and batch; `before` is the seq to continue after (the cursor).
   */
  list(filter: { lane: Lane; status?: JobStatus; model?: string; batch?: string; before?: number; limit: number }): JobRecord[] {
    const list = filter.batch === undefined ? this.s.list : this.s.batchList;
    const statement = filter.status ? (filter.model ? list.both : list.status) : filter.model ? list.model : list.all;
    const params: Params = { lane: filter.lane, before: filter.before ?? Number.MAX_SAFE_INTEGER, limit: filter.limit };
    if (filter.batch !== undefined) params.batch = filter.batch;
    if (filter.status) params.status = filter.status;
    if (filter.model) params.model = modelKey(filter.model);
    return statement.all(params).map(toRecord);
  }

  /**
   * Retention: looks at up to `batch` finished jobs that ended before `cutoff`, after `cursor`,
   * and removes each with its events, artifact and dependents' rows — never one a dependent
   * holds (webhooks still pending). Returns how many went and where to resume (null: done).
   */
  prune(cutoff: number, batch = 1000, cursor: PruneCursor | null = null): { removed: number; next: PruneCursor | null } {
    return this.atomically(() => {
      const rows = this.s.finished.all({ cutoff, afterAt: cursor?.finishedAt ?? -1, afterSeq: cursor?.seq ?? -1, limit: batch });
      let removed = 0;
      for (const { id } of rows) {
        if (this.dependents.some((d) => d.holds(id))) continue;
        for (const d of this.dependents) d.remove(id);
        this.s.deleteEvents.run(id);
        this.s.deleteArtifact.run(id);
        this.s.deleteJob.run(id);
        removed++;
      }
      const last = rows.at(-1);
      return { removed, next: rows.length === batch && last ? { finishedAt: last.finished_at, seq: last.seq } : null };
    });
  }

  /** Passthrough requests waiting for the worker. */
  waitingInteractive(): number {
    return this.s.waitingInteractive.get()!.n;
  }

  events(jobId: string, afterId = 0): JobEvent[] {
    return this.s.events.all(jobId, afterId).map(toEvent);
  }

  /**
   * A job's stored events after `afterId`, each with the job as it was right after it (an
   * event stored before events kept snapshots gets the job as it is now, in the event's state).
   */
  history(jobId: string, afterId = 0): { event: JobEvent; job: JobRecord }[] {
    const current = this.get(jobId);
    if (!current) return [];
    return this.s.events.all(jobId, afterId).map((e) => {
      const event = toEvent(e);
      const then = e.snapshot === null ? { status: event.type } : (JSON.parse(e.snapshot) as Snapshot);
      return { event, job: { ...current, ...then } };
    });
  }

  /** Jobs ahead of this one (any model), or null when it is not queued. */
  position(job: JobRecord): number | null {
    if (job.status !== "queued") return null;
    return this.s.position.get({ lane: job.lane, seq: job.seq })!.n;
  }

  /** Active work by model and state, for /status and metrics. */
  activeCounts(): { model: string; status: JobStatus; n: number; oldest: number }[] {
    return this.s.counts.all();
  }

  artifact(jobId: string): { contentType: string; body: Uint8Array } | null {
    const row = this.s.artifactOf.get(jobId);
    return row ? { contentType: row.content_type, body: row.body } : null;
  }

  /**
   * Start-up recovery: work that was on the target when foreman died goes back to the queue
   * (a failure counted, so a job that keeps killing the process ends up failed once
   * `givesUp(failures)` says so); passthrough requests are canceled, their callers are gone.
   */
  recover(givesUp: (failures: number) => boolean): { requeued: number; failed: number; canceled: number } {
    // one commit for all of them
    return this.atomically(() => {
      const result = { requeued: 0, failed: 0, canceled: 0 };
      for (const j of this.s.stranded.all()) {
        if (j.lane === INTERACTIVE) {
          this.transition(j.id, "canceled", { data: { reason: "foreman restarted; the caller of this passthrough request is gone" } });
          result.canceled++;
        } else if (givesUp(j.failures + 1)) {
          this.transition(j.id, "failed", { failure: true, error: { status: 500, message: `gave up after ${j.failures + 1} failed attempts; the last was interrupted by a foreman restart` } });
          result.failed++;
        } else {
          this.transition(j.id, "queued", { failure: true, data: { reason: "foreman restarted while the job was running" } });
          result.requeued++;
        }
      }
      return result;
    });
  }
}
