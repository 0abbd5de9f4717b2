// The SQLite store: opens the database in WAL mode with the configured sync (FULL unless
// FOREMAN_SYNC=normal), takes the single-instance lock and brings the schema up to date.
// Everything durable in foreman lives in this one file.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Durability, type Fsync, type SyncMode } from "./durability.ts";
import { migrations } from "./migrations.ts";

export class StoreError extends Error {}

export interface Store {
  readonly db: Database;
  readonly path: string;
  /** Schema version after migrations. */
  readonly version: number;
  /** When commits reach the disk, and what waits for them. */
  readonly durability: Durability;
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
  let lock: Database;
  try {
    lock = new Database(`${path}.lock`, { create: true });
  } catch (err) {
    throw new StoreError(`cannot take the lock on database ${path} (${path}.lock): ${(err as Error).message}`);
  }
  try {
    lock.exec("PRAGMA busy_timeout = 0");
    lock.exec("PRAGMA locking_mode = EXCLUSIVE");
    lock.exec("CREATE TABLE IF NOT EXISTS owner (pid INTEGER, started_at TEXT)");
    lock.exec("BEGIN EXCLUSIVE");
    lock.exec("DELETE FROM owner");
    lock.query("INSERT INTO owner VALUES (?, ?)").run(process.pid, new Date().toISOString());
    lock.exec("COMMIT");
  } catch (err) {
    lock.close();
    // only a lock held elsewhere means another foreman; a full disk or a read-only directory is said as it is
    if (/^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code))) {
      throw new StoreError(`database ${path} is in use by another foreman process; stop it or set FOREMAN_DB to another file`);
    }
    throw new StoreError(`cannot take the lock on database ${path} (${path}.lock): ${(err as Error).message}`);
  }
  return lock;
}

const SYNCHRONOUS: Record<SyncMode, string> = { full: "FULL", normal: "NORMAL" };

export function openStore(path: string, options: { sync?: SyncMode; fsync?: Fsync } = {}): Store {
  const sync = options.sync ?? "full";
  const inMemory = path === ":memory:";
  if (!inMemory) mkdirSync(dirname(path), { recursive: true });
  const lock = inMemory ? undefined : acquireLock(path);
  let db: Database;
  let durability: Durability;
  try {
    db = new Database(path, { create: true, strict: true });
    const { journal_mode } = db.query<{ journal_mode: string }, []>("PRAGMA journal_mode = WAL").get()!;
    // deferred commits and the sync that makes them durable rely on the write-ahead log
    if (!inMemory && journal_mode !== "wal") throw new StoreError(`database ${path} cannot use write-ahead logging (journal mode ${journal_mode}); put FOREMAN_DB on a local file system`);
    db.exec(`PRAGMA synchronous = ${SYNCHRONOUS[sync]}`);
    db.exec("PRAGMA busy_timeout = 5000");
    // nested transactions are savepoints; their undo pages (and any temporary b-tree) stay in
    // memory instead of a temporary file written on every change inside one
    db.exec("PRAGMA temp_store = MEMORY");
    migrate(db, path);
    durability = new Durability(db, inMemory ? null : `${path}-wal`, sync, options.fsync);
    // what a killed process committed without a sync is on disk before anyone hears of it
    durability.syncNow();
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
    durability,
    close() {
      try {
        durability.syncNow();
      } catch {
        // the checkpoint below syncs the log too, or the next start replays it
      }
      durability.close();
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

/**
 * SQLite trouble that is the machine's, not the request's — a full disk, a read-only file, an
 * I/O error, a lock, a damaged file: its code, or undefined for any other error. The edge
 * answers it with a 503, and the metrics count it.
 */
export function storageTrouble(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^SQLITE_(FULL|READONLY|IOERR|BUSY|LOCKED|CANTOPEN|CORRUPT|NOTADB)/.test(code) ? code : undefined;
}

/**
 * Why the database refuses writes right now, or null when it takes them (/readyz): commits a
 * write that changes nothing — the schema version set to itself, one page appended to the
 * write-ahead log, deferred so it costs no fsync — and reports what SQLite says.
 */
export function refusesWrites(store: Store): string | null {
  try {
    store.durability.commit(() => store.db.transaction(() => store.db.exec(`PRAGMA user_version = ${store.version}`))(), true);
    return null;
  } catch (err) {
    const code = storageTrouble(err);
    return code ? `${code}: ${(err as Error).message}` : (err as Error).message;
  }
}
