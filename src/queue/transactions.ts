// The queue's transactions and what waits on them (ADR 0016): nested calls join the outermost
// transaction as savepoints; work for after the commit and news for after the sync are queued
// while it runs and dropped if it — or the savepoint that queued them — rolls back. Split from
// the queue (issue 21); it knows nothing of jobs.
import type { Database } from "bun:sqlite";
import type { Durability } from "../store/durability.ts";

/**
 * How a transaction commits (ADR 0016): `synced` waits for the disk before it returns;
 * `deferred` does not, and what it publishes waits for the next sync instead. Nested
 * transactions join the outermost one and its way of committing.
 */
export type Commit = "synced" | "deferred";

export class Transactions {
  private readonly failed: ((err: unknown) => void)[] = [];
  /** Work waiting for the outermost transaction to commit; dropped if it rolls back. */
  private afterCommit: (() => void)[] = [];
  /** News for the outside, waiting for the outermost commit to be on disk; dropped if it rolls back. */
  private afterSync: (() => void)[] = [];
  private depth = 0;
  /** Runs a function in a transaction (a savepoint when nested); made once, as bun:sqlite builds several wrappers per call. */
  private readonly inTransaction: <T>(fn: () => T) => T;

  constructor(
    db: Database,
    private readonly durability: Durability,
  ) {
    this.inTransaction = db.transaction((fn: () => unknown) => fn()) as <T>(fn: () => T) => T;
  }

  /** Registers a listener for transactions that failed and rolled back (metrics count the database's refusals). */
  onFailed(listener: (err: unknown) => void): void {
    this.failed.push(listener);
  }

  /**
   * Runs `fn` in a transaction; nested calls become savepoints of the outer one. What the
   * transaction changes in memory (the queued count) takes effect after the outermost commit,
   * what it publishes (events to listeners) once that commit is on disk — and neither if it, or
   * the savepoint that did it, rolls back. `commit` applies to the outermost transaction.
   */
  atomically<T>(fn: () => T, commit: Commit = "synced"): T {
    const outermost = this.depth === 0;
    const marks = [this.afterCommit.length, this.afterSync.length] as const;
    this.depth++;
    let result: T;
    try {
      result = outermost ? this.durability.commit(() => this.inTransaction(fn), commit === "deferred") : this.inTransaction(fn);
    } catch (err) {
      this.afterCommit.length = marks[0];
      this.afterSync.length = marks[1];
      if (outermost) for (const l of this.failed) l(err);
      throw err;
    } finally {
      this.depth--;
    }
    if (outermost) {
      const work = this.afterCommit;
      const news = this.afterSync;
      this.afterCommit = [];
      this.afterSync = [];
      for (const w of work) w();
      for (const n of news) this.durability.afterSync(n);
    }
    return result;
  }

  /** Runs `work` once the current transaction commits (at once outside a transaction). */
  whenCommitted(work: () => void): void {
    if (this.depth === 0) work();
    else this.afterCommit.push(work);
  }

  /** Runs `work` once the current transaction has committed and is on disk: what tells the outside. */
  whenDurable(work: () => void): void {
    if (this.depth === 0) this.durability.afterSync(work);
    else this.afterSync.push(work);
  }
}
