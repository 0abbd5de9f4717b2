// The SQLite store: opens the database in WAL mode, takes the single-instance lock and
// brings the schema up to date. Everything durable in foreman lives in this one file.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { migrations } from "./migrations.ts";

export class StoreError extends Error {}

export interface Store {
  readonly db: Database;
  readonly path: string;
  /** Schema version after migrations. */
  readonly version: number;
  close(): void;
}

export const SCHEMA_VERSION = migrations.length;

/**
 * A second foreman on the same database would run the same queue twice. The lock is an
 * exclusive SQLite lock on a side file: the kernel drops it when the process dies (even on
 * SIGKILL), so there is no stale lock to clean up, and the database itself stays readable
 * for backups.
 */
function acquireLock(path: string): Database {
  const lock = new Database(`${path}.lock`, { create: true });
  try {
    lock.exec("PRAGMA busy_timeout = 0");
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("CREATE TABLE IF NOT EXISTS owner (pid INTEGER, started_at TEXT)");
    lock.exec("BEGIN EXCLUSIVE");
    lock.exec("DELETE FROM owner");
    lock.query("INSERT INTO owner VALUES (?, ?)").run(process.pid, new Date().toISOString());
    lock.exec("COMMIT");
  } catch {
    lock.close();
    throw new StoreError(`database ${path} is in use by another foreman process; stop it or set FOREMAN_DB to another file`);
  }
  return lock;
}

export function openStore(path: string): Store {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const lock = path === ":memory:" ? undefined : acquireLock(path);
  let db: Database;
  try {
    db = new Database(path, { create: true, strict: true });
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA busy_timeout = 5000");
    migrate(db, path);
  } catch (err) {
    lock?.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError(`cannot open database ${path}: ${(err as Error).message}`);
  }
  const version = currentVersion(db);
  return {
    db,
    path,
    version,
    close() {
      try {
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      } catch {
        // a failed checkpoint leaves a WAL that the next start replays: nothing is lost
      }
      db.close();
      lock?.close();
    },
  };
}

function currentVersion(db: Database): number {
  return (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
}

function migrate(db: Database, path: string): void {
  const from = currentVersion(db);
  if (from > migrations.length) {
    throw new StoreError(
      `database ${path} has schema version ${from}, newer than this foreman understands (${migrations.length}); run a newer foreman or point FOREMAN_DB elsewhere`,
    );
  }
  for (let v = from; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    })();
  }
}
