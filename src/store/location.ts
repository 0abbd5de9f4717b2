// Where the database lives when FOREMAN_DB does not say: a per-user data directory, as Ollama
// keeps ~/.ollama, so foreman started from any directory opens the same queue (ADR 0032).
// A database at the old relative default (./data/foreman.db) is kept in use, with a notice,
// so nobody meets an empty queue after upgrading. Pure: the machine's facts are passed in.
// Batch files live beside the database (filesDir), so a backup and a restore find them there.
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** The default before 0.1.0's data directory: relative to the directory foreman was started in. */
export const LEGACY_DATABASE = "./data/foreman.db";

export interface LocationFacts {
  /** process.platform */
  platform: string;
  HOME?: string;
  XDG_DATA_HOME?: string;
  LOCALAPPDATA?: string;
  /** Whether LEGACY_DATABASE exists (relative to the working directory). */
  legacyExists: boolean;
}

export interface DatabaseLocation {
  path: string;
  /** Said once at start-up when the database is not where the documentation says by default. */
  notice?: string;
}

/** The per-user data directory for foreman, or undefined when the environment names no home. */
function dataDirectory(facts: Omit<LocationFacts, "legacyExists">): string | undefined {
  if (facts.platform === "win32") return facts.LOCALAPPDATA ? `${facts.LOCALAPPDATA}\\foreman` : undefined;
  if (facts.platform === "darwin") return facts.HOME ? `${facts.HOME}/Library/Application Support/foreman` : undefined;
  // XDG Base Directory: an XDG_DATA_HOME that is not absolute is to be ignored
  if (facts.XDG_DATA_HOME?.startsWith("/")) return `${facts.XDG_DATA_HOME}/foreman`;
  return facts.HOME ? `${facts.HOME}/.local/share/foreman` : undefined;
}

/** The database to open when none is configured. */
export function defaultDatabase(facts: LocationFacts): DatabaseLocation {
  const dir = dataDirectory(facts);
  const sep = facts.platform === "win32" ? "\\" : "/";
  if (facts.legacyExists) {
    const move = dir ? `move it to ${dir}${sep}foreman.db, or ` : "";
    return { path: LEGACY_DATABASE, notice: `using the database in the working directory, ${LEGACY_DATABASE} (the default before the per-user data directory); ${move}set FOREMAN_DB to keep this one` };
  }
  if (!dir) return { path: LEGACY_DATABASE, notice: `no home directory in the environment (HOME): the database is ${LEGACY_DATABASE}, relative to the working directory; set FOREMAN_DB` };
  return { path: `${dir}${sep}foreman.db` };
}

/** Where batch files live (ADR 0039): beside the database, or the temporary folder for one in memory. */
export function filesDir(db: string): string {
  return db === ":memory:" ? join(tmpdir(), `foreman-files-${process.pid}`) : join(dirname(db), "files");
}
