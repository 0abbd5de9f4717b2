// Storage faults on exactly the writes a test names, for the tests of what foreman does when its
// database refuses a write. Nothing in foreman is replaced: a temporary trigger on the jobs (or
// files, or batches) table (on foreman's own connection) makes the named write grow a temporary table past its page
// limit, so SQLite itself fails that statement with SQLITE_FULL — "database or disk is full", as
// a full disk would — and the transaction around it rolls back. The fault stays until cleared.
import type { Database } from "bun:sqlite";
import type { JobStatus } from "../../src/contract/states.ts";
import type { BatchStatus } from "../../src/queue/batches.ts";

/** A write the worker makes: a job's move to a state (optionally from one), or a progress update; or the row of a new batch file; or a batch's move to a status, or its new row. */
export type Write = { to: JobStatus; from?: JobStatus } | { progress: true } | { file: true } | { batch: BatchStatus } | { newBatch: true };

export interface StorageFaults {
  /** Every write of this kind fails with SQLITE_FULL until `clear()`. */
  fail(write: Write): void;
  clear(): void;
}

export function storageFaults(db: Database): StorageFaults {
  db.exec("CREATE TEMP TABLE IF NOT EXISTS armed_faults (to_status TEXT, from_status TEXT)");
  db.exec("CREATE TEMP TABLE IF NOT EXISTS fault_ballast (b BLOB)");
  // a transition always changes the status; a progress update never does
  db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS fault_on_transition BEFORE UPDATE OF status ON main.jobs
    WHEN NEW.status != OLD.status AND EXISTS (SELECT 1 FROM temp.armed_faults WHERE to_status = NEW.status AND (from_status IS NULL OR from_status = OLD.status))
    BEGIN INSERT INTO temp.fault_ballast VALUES (zeroblob(1048576)); END`);
  db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS fault_on_progress BEFORE UPDATE OF progress_chunks ON main.jobs
    WHEN NEW.status = OLD.status AND EXISTS (SELECT 1 FROM temp.armed_faults WHERE to_status = 'progress')
    BEGIN INSERT INTO temp.fault_ballast VALUES (zeroblob(1048576)); END`);
  db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS fault_on_file BEFORE INSERT ON main.files
    WHEN EXISTS (SELECT 1 FROM temp.armed_faults WHERE to_status = 'file')
    BEGIN INSERT INTO temp.fault_ballast VALUES (zeroblob(1048576)); END`);
  db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS fault_on_batch BEFORE UPDATE OF status ON main.batches
    WHEN NEW.status != OLD.status AND EXISTS (SELECT 1 FROM temp.armed_faults WHERE to_status = 'batch:' || NEW.status)
    BEGIN INSERT INTO temp.fault_ballast VALUES (zeroblob(1048576)); END`);
  db.exec(`CREATE TEMP TRIGGER IF NOT EXISTS fault_on_new_batch BEFORE INSERT ON main.batches
    WHEN EXISTS (SELECT 1 FROM temp.armed_faults WHERE to_status = 'new batch')
    BEGIN INSERT INTO temp.fault_ballast VALUES (zeroblob(1048576)); END`);
  const { page_count } = db.query("PRAGMA temp.page_count").get() as { page_count: number };
  db.exec(`PRAGMA temp.max_page_count = ${page_count + 16}`);
  const arm = db.query("INSERT INTO temp.armed_faults VALUES (?, ?)");
  return {
    fail(write) {
      if ("progress" in write) arm.run("progress", null);
      else if ("file" in write) arm.run("file", null);
      else if ("newBatch" in write) arm.run("new batch", null);
      else if ("batch" in write) arm.run(`batch:${write.batch}`, null);
      else arm.run(write.to, write.from ?? null);
    },
    clear() {
      db.exec("DELETE FROM temp.armed_faults");
    },
  };
}
