// `foreman backup PATH`: a consistent copy of the database while foreman runs, with SQLite's
// VACUUM INTO — one read transaction, so the copy holds exactly what was committed when it
// began, without stopping the writer (WAL). It is the foreman executable itself, so it works
// inside the FROM scratch image, which has no sqlite3. foreman's single-instance lock is on a
// side file (store/open.ts), so the database stays open to this second reader.
import { Database } from "bun:sqlite";
import { existsSync, rmSync, statSync } from "node:fs";
import { loadConfig } from "../config.ts";
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

export const backup: Handler = async ({ values, positionals: [target] }) => {
  const source = sourcePath(str(values.db));
  const dest = target!;
  if (existsSync(dest)) {
    if (values.force !== true) throw new UsageError(`${dest} exists; name a new file, or --force to replace it`);
    rmSync(dest);
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
  // the copy must open and be whole before anyone relies on it
  const copy = new Database(dest, { readonly: true });
  try {
    const check = copy.query<{ integrity_check: string }, []>("PRAGMA integrity_check").get();
    if (check?.integrity_check !== "ok") throw new Failed(`the copy ${dest} failed its integrity check: ${check?.integrity_check}`);
    const hasJobs = copy.query("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'jobs'").get() !== null;
    const jobs = hasJobs ? copy.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM jobs").get()!.n : 0;
    process.stdout.write(`copied ${source} to ${dest}: ${jobs} jobs, ${humanBytes(statSync(dest).size)}, integrity ok\n`);
  } finally {
    copy.close();
  }
  return EXIT.ok;
};
