// When a commit is on disk, and who waits for it (ADR 0016). With FOREMAN_SYNC=full the
// connection commits with PRAGMA synchronous = FULL: SQLite fsyncs the WAL before the commit
// returns, and bun:sqlite blocks the event loop while it does. The hot paths (the worker's state
// changes, the batches of POST /jobs, passthrough records) commit *deferred* instead: with
// synchronous = NORMAL, into the WAL — safe from a crash of the process, not yet from a power
// cut — and foreman fsyncs the WAL itself, off the event loop, one fsync at a time: since an
// fsync makes every frame written before it durable, each covers all the commits made while the
// previous one ran (group commit). Nothing outside foreman hears of a deferred commit before its
// fsync: whatever tells someone (a 202, listeners, long-polls, webhook sends, job API replies)
// waits in `afterSync`. A sync starts as soon as something waits — every job state change does,
// so none stays off the disk once the worker goes idle; deferred writes nobody waits for
// (progress counters, passthrough records) ride along with the next one.
// With FOREMAN_SYNC=normal every commit is NORMAL and nothing waits: what is committed is
// reported at once, and survives a crash of the process but not a power cut.
import type { Database } from "bun:sqlite";
import { closeSync, fsync, fsyncSync, openSync } from "node:fs";

export type SyncMode = "full" | "normal";

/** An asynchronous fsync(2), as node:fs has it; tests stall it to see that nothing is told before the disk answers. */
export type Fsync = (fd: number, done: (err: Error | null) => void) => void;

const SETTLED = Promise.resolve();

/** After a failed fsync, when to try again (what waited for it keeps waiting). */
const RETRY_SYNC_MS = 1000;

export class Durability {
  /** Commits that wrote to the WAL, counted (at start: one, for what a killed process may have left). */
  private writtenCount: number;
  /** How many of them are known to be on disk. */
  private syncedCount = 0;
  /** What waits, with the count of commits it needs on disk; in commit order. */
  private waiting: { through: number; work: () => void }[] = [];
  private running = false;
  private walFd: number | undefined;
  private closed = false;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private readonly changes;

  /** `walPath`: the database's write-ahead log, null when there is no file (":memory:"). */
  constructor(
    private readonly db: Database,
    private readonly walPath: string | null,
    readonly mode: SyncMode,
    private readonly fsyncWal: Fsync = fsync,
  ) {
    this.writtenCount = mode === "full" && walPath !== null ? 1 : 0;
    this.changes = db.query<{ n: number }, []>("SELECT total_changes() AS n");
  }

  /** Commits written so far; one is on disk once `synced` reaches its number. */
  get written(): number {
    return this.writtenCount;
  }

  get synced(): number {
    return this.syncedCount;
  }

  /**
   * Runs one outermost transaction (`transaction` begins and commits it). A synced commit that
   * wrote anything fsynced the WAL before it returned, and with it every commit before it; a
   * deferred one leaves its frames for the next sync. Nothing waiting runs in here: the caller
   * may still be unwinding its transaction; it runs at the next `afterSync` or fsync.
   */
  commit<T>(transaction: () => T, deferred: boolean): T {
    if (this.mode === "normal") return transaction();
    const before = this.changes.get()!.n;
    if (!deferred) {
      const result = transaction();
      if (this.changes.get()!.n !== before) this.syncedCount = ++this.writtenCount;
      return result;
    }
    // the setting applies to the next commit and cannot change inside a transaction; a PRAGMA
    // takes effect when it is compiled, so it is executed afresh, never a cached statement
    this.db.exec("PRAGMA synchronous = NORMAL");
    try {
      const result = transaction();
      if (this.changes.get()!.n !== before) this.writtenCount++;
      return result;
    } finally {
      this.db.exec("PRAGMA synchronous = FULL");
    }
  }

  /** Runs `work` once every commit made so far is on disk — at once when all of them are. */
  afterSync(work: () => void): void {
    this.reached(this.syncedCount); // what a synced commit covered goes first
    if (this.syncedCount >= this.writtenCount) return work();
    this.waiting.push({ through: this.writtenCount, work });
    this.flush();
  }

  /** Resolves once every commit made so far is on disk. */
  settled(): Promise<void> {
    if (this.syncedCount >= this.writtenCount && this.waiting.length === 0) return SETTLED;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.afterSync(resolve);
    return promise;
  }

  /** Starts putting the commits made so far on disk, unless an fsync is running: the next starts when it ends. */
  private flush(): void {
    if (this.running || this.closed || this.syncedCount >= this.writtenCount) return;
    const through = this.writtenCount;
    const fd = this.wal();
    if (fd === undefined) return this.reached(through);
    this.running = true;
    this.fsyncWal(fd, (err) => {
      this.running = false;
      if (this.closed) this.closeWal();
      if (err) {
        // the disk refused: nobody hears of these commits until a later sync covers them
        this.retry = setTimeout(() => this.flush(), RETRY_SYNC_MS);
        return;
      }
      this.reached(through);
      this.flush();
    });
  }

  /** Puts every commit on disk before returning (start-up, shutdown). */
  syncNow(): void {
    if (this.syncedCount >= this.writtenCount) return;
    const fd = this.wal();
    if (fd !== undefined) fsyncSync(fd);
    this.reached(this.writtenCount);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retry);
    // a running fsync still uses the descriptor: it is closed when that ends
    if (!this.running) this.closeWal();
  }

  /** The first `count` commits are on disk: what waited for them may go. */
  private reached(count: number): void {
    this.syncedCount = Math.max(this.syncedCount, count);
    let n = 0;
    while (n < this.waiting.length && this.waiting[n]!.through <= this.syncedCount) n++;
    if (n === 0) return;
    const ready = this.waiting.splice(0, n);
    for (const w of ready) w.work();
  }

  /**
   * The WAL, opened once: an fsync on any descriptor of the file flushes all of it — the call
   * SQLite itself makes at a FULL commit. SQLite keeps the file (it only truncates it) while the
   * database is open; it is missing only when nothing was ever written, and then nothing is pending.
   */
  private wal(): number | undefined {
    if (this.walFd === undefined && this.walPath !== null) {
      try {
        this.walFd = openSync(this.walPath, "r");
      } catch (err) {
        if ((err as { code?: string }).code !== "ENOENT") throw err;
      }
    }
    return this.walFd;
  }

  private closeWal(): void {
    if (this.walFd !== undefined) closeSync(this.walFd);
    this.walFd = undefined;
  }
}
