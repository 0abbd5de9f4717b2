// `foreman backup PATH`: a consistent copy of the database while foreman runs, with SQLite's
// VACUUM INTO — one read transaction, so the copy holds exactly what was committed when it
// began, without stopping the writer (WAL). It is the foreman executable itself, so it works
// inside the FROM scratch image, which has no sqlite3. foreman's single-instance lock is on a
// side file (store/open.ts), so the database stays open to this second reader.
// Batch files (ADR 0039) live on disk beside the database, not in it: the backup copies those the
// copy's `files` rows name into `PATH.files/`, and checks each against its row's size and SHA-256.
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { filesDir, loadConfig } from "../config.ts";
import { EXIT, Failed, UsageError } from "./exit-codes.ts";
import { humanBytes } from "./human.ts";
import { str, type Handler } from "./spec.ts";

function sourcePath(flag: string | undefined): string {
  if (flag !== undefined) return flag;
  // the default follows serve's: FOREMAN_DB, else ./data/foreman.db where it exists, else the data directory
  const config = loadConfig([]);
  if (!config.ok) throw new UsageError(config.error);
  return config.config.db;
}

/** Where a backup at `dest` keeps its batch files: a folder named after it, never the live `files/`. */
export const backupFilesDir = (dest: string): string => `${dest}.files`;

/** The SHA-256 of a file, read in chunks. */
async function sha256Of(path: string): Promise<string> {
  const hash = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * Copies every batch file the copy's rows name from `from` into `to`, each checked against its
 * row. A file deleted since the copy began (DELETE /v1/files, retention) loses its row in the copy
 * too — so the copy never names a file it lacks. Returns how many files and bytes were copied.
 */
async function copyBatchFiles(copyPath: string, from: string, to: string): Promise<{ files: number; bytes: number }> {
  const copy = new Database(copyPath);
  try {
    if (copy.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'files'").get() === null) return { files: 0, bytes: 0 };
    const rows = copy.query<{ id: string; bytes: number; sha256: string }, []>("SELECT id, bytes, sha256 FROM files ORDER BY seq").all();
    mkdirSync(to, { recursive: true });
    let bytes = 0;
    let files = 0;
    for (const row of rows) {
      const part = join(to, `${row.id}.part`);
      try {
        copyFileSync(join(from, row.id), part);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Failed(`cannot copy batch file ${row.id} to ${to}: ${(err as Error).message}`);
        copy.query("DELETE FROM files WHERE id = ?").run(row.id);
        continue;
      }
      if (statSync(part).size !== row.bytes || (await sha256Of(part)) !== row.sha256) throw new Failed(`batch file ${row.id} does not match its record (size or SHA-256): ${join(from, row.id)}`);
      renameSync(part, join(to, row.id));
      bytes += row.bytes;
      files++;
    }
    return { files, bytes };
  } finally {
    copy.close();
  }
}

export const backup: Handler = async ({ values, positionals: [target] }) => {
  const source = sourcePath(str(values.db));
  const dest = target!;
  const destFiles = backupFilesDir(dest);
  for (const existing of [dest, destFiles].filter((p) => existsSync(p))) {
    if (values.force !== true) throw new UsageError(`${existing} exists; name a new file, or --force to replace it`);
    rmSync(existing, { recursive: true });
  }
  if (!existsSync(source)) throw new Failed(`no database at ${source}${str(values.db) === undefined ? " (the default; name foreman's with --db or FOREMAN_DB)" : ""}`);
  let db: Database;
  try {
    db = new Database(source, { readonly: true });
  } catch (err) {
    throw new Failed(`cannot open database ${source}: ${(err as Error).message}`);
  }
  try {
    db.exec("PRAGMA busy_timeout = 10000");
    db.query("VACUUM INTO ?").run(dest);
  } catch (err) {
    throw new Failed(`cannot copy ${source} to ${dest}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  const copied = await copyBatchFiles(dest, filesDir(source), destFiles);
  // the copy must open and be whole before anyone relies on it
  const copy = new Database(dest, { readonly: true });
  try {
    const check = copy.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get();
    if (check?.integrity_check !== "ok") throw new Failed(`the copy ${dest} failed its integrity check: ${check?.integrity_check}`);
    const hasJobs = copy.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'jobs'").get() !== null;
    const jobs = hasJobs ? copy.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM jobs").get()!.n : 0;
    const files = `${copied.files} batch file${copied.files === 1 ? "" : "s"} (${humanBytes(copied.bytes)}) in ${destFiles}`;
    process.stdout.write(`copied ${source} to ${dest}: ${jobs} jobs, ${humanBytes(statSync(dest).size)}, ${files}, integrity ok\n`);
  } finally {
    copy.close();
  }
  return EXIT.ok;
};
