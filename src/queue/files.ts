// Batch files (OpenAI's /v1/files, ADR 0039): the bytes live beside the database in `files/`,
// one file per id, written to a `.part` name, fsync'd and renamed before their row is committed —
// so a row always names a complete file, and a half-written one (a crash mid-upload) is only a
// `.part` that the next start removes. The row records the size, the line count and the SHA-256.
import type { Database } from "bun:sqlite";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { newId } from "../store/ids.ts";
import { filesDir } from "../store/location.ts";

export interface FileRecord {
  seq: number;
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  lines: number;
  sha256: string;
  createdAt: number;
  /** When the file expires: it is listed no more, and a sweep deletes it. */
  expiresAt: number | null;
}

interface FileRow {
  seq: number;
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  lines: number;
  sha256: string;
  created_at: number;
  expires_at: number | null;
}

const toRecord = (r: FileRow): FileRecord => ({ seq: r.seq, id: r.id, purpose: r.purpose, filename: r.filename, bytes: r.bytes, lines: r.lines, sha256: r.sha256, createdAt: r.created_at, expiresAt: r.expires_at });

/** Batch files are kept 30 days unless their expires_after (uploads) or the batch's output_expires_after (results) says otherwise. */
export const DEFAULT_EXPIRY_SECONDS = 2_592_000;
const MIN_EXPIRY_SECONDS = 3600;

/**
 * OpenAI's expiry policy `{anchor: "created_at", seconds}` (3600 to 2592000 seconds) read from a
 * request: the seconds, the default when absent, or what is wrong, naming `param`. Pure.
 */
export function expirySeconds(anchor: unknown, seconds: unknown, param: string): number | { error: string; field: string } {
  if (anchor === undefined && seconds === undefined) return DEFAULT_EXPIRY_SECONDS;
  if (anchor !== "created_at") return { error: `${param}.anchor: expected "created_at"; got ${JSON.stringify(anchor ?? null)}`, field: `${param}.anchor` };
  const n = typeof seconds === "string" && /^\d{1,10}$/.test(seconds) ? Number(seconds) : seconds;
  if (typeof n !== "number" || !Number.isInteger(n) || n < MIN_EXPIRY_SECONDS || n > DEFAULT_EXPIRY_SECONDS) {
    return { error: `${param}.seconds: expected a whole number of seconds from ${MIN_EXPIRY_SECONDS} (1 hour) to ${DEFAULT_EXPIRY_SECONDS} (30 days); got ${JSON.stringify(seconds ?? null)}`, field: `${param}.seconds` };
  }
  return n;
}

/** The purpose of a message batch's requests as written to disk: foreman's own, never listed unasked. */
export const MESSAGE_BATCH_PURPOSE = "message_batch";

/** The page of a listing: newest first unless `order` is asc; `after` an id of the previous page. */
export interface FilePage {
  purpose?: string;
  order: "asc" | "desc";
  after?: string;
  limit: number;
}

/** What was written and checked of a new file, ready to be recorded. */
export interface WrittenFile {
  id: string;
  path: string;
  bytes: number;
  lines: number;
  sha256: string;
}

/** A file being written: bytes appended, counted and hashed, fsync'd on `finish`. */
export class FileWriter {
  readonly id = `file-${newId()}`;
  readonly part: string;
  private readonly fd: number;
  private readonly hash = new Bun.CryptoHasher("sha256");
  bytes = 0;
  lines = 0;
  private last = 0x0a;

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.part = join(dir, `${this.id}.part`);
    this.fd = openSync(this.part, "w");
  }

  write(chunk: Uint8Array): void {
    for (let off = 0; off < chunk.byteLength; ) off += writeSync(this.fd, chunk, off);
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    for (const b of chunk) if (b === 0x0a) this.lines++;
    if (chunk.byteLength > 0) this.last = chunk[chunk.byteLength - 1]!;
  }

  /** On disk: fsync'd and renamed to its id. A last line without a newline still counts. */
  finish(): WrittenFile {
    fsyncSync(this.fd);
    closeSync(this.fd);
    const path = join(this.dir, this.id);
    renameSync(this.part, path);
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return { id: this.id, path, bytes: this.bytes, lines: this.lines + (this.last === 0x0a ? 0 : 1), sha256: this.hash.digest("hex") };
  }

  /** Gives up: the partial file goes. */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed by finish
    }
    rmSync(this.part, { force: true });
  }
}

/**
 * Every line of the file at `path` (without its newline; empty lines too, but not the empty
 * tail after a last newline) with its 1-based number, reading 1 MiB at a time: never the whole
 * file in memory. A line's bytes are valid until the next is asked for. A generator, so that its
 * reader can stop between lines and let the event loop run (ADR 0041); leaving the loop early
 * closes the file.
 */
export function* fileLines(path: string): Generator<[line: Uint8Array, n: number]> {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(1 << 20);
    let held: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got === 0) break;
      const data: Buffer<ArrayBufferLike> = held.length > 0 ? Buffer.concat([held, buf.subarray(0, got)]) : buf.subarray(0, got);
      let start = 0;
      for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
        yield [data.subarray(start, nl), ++n];
        start = nl + 1;
      }
      held = Buffer.from(data.subarray(start));
    }
    if (held.length > 0) yield [held, ++n];
  } finally {
    closeSync(fd);
  }
}

export class Files {
  readonly dir: string;

  constructor(
    private readonly db: Database,
    dbPath: string,
  ) {
    this.dir = filesDir(dbPath);
    mkdirSync(this.dir, { recursive: true });
    // what a stopped foreman was writing never became a file; nor did one renamed into place whose
    // row was never committed (killed between the two): no record names it, the next finalize writes it again
    const recorded = new Set(db.query<{ id: string }, []>("SELECT id FROM files").all().map((r) => r.id));
    for (const name of readdirSync(this.dir)) if (name.endsWith(".part") || !recorded.has(name)) rmSync(join(this.dir, name), { force: true });
  }

  /** Records `written` through `commit`; when that throws, its bytes go too: never a file on disk without a row. */
  recordOrDiscard<T>(written: WrittenFile, commit: () => T): T {
    try {
      return commit();
    } catch (err) {
      this.discard(written.id);
      throw err;
    }
  }

  /** A new file, written by the caller then `record`ed. */
  writer(): FileWriter {
    return new FileWriter(this.dir);
  }

  /** Records a file that is on disk, kept `expiresAfter` seconds; the caller commits (and, for an upload, waits for the sync). */
  record(file: WrittenFile, purpose: string, filename: string, now = Date.now(), expiresAfter = DEFAULT_EXPIRY_SECONDS): FileRecord {
    const row = this.db
      .query<FileRow, [string, string, string, number, number, string, number, number]>(
        "INSERT INTO files (id, purpose, filename, bytes, lines, sha256, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
      )
      .get(file.id, purpose, filename, file.bytes, file.lines, file.sha256, now, now + expiresAfter * 1000)!;
    return toRecord(row);
  }

  /** A file not expired, or null. */
  get(id: string, now = Date.now()): FileRecord | null {
    const row = this.db.query<FileRow, [string, number]>("SELECT * FROM files WHERE id = ? AND (expires_at IS NULL OR expires_at > ?)").get(id, now);
    return row ? toRecord(row) : null;
  }

  /** Up to `limit` files expired at `now`: what the retention sweep deletes. */
  expired(now: number, limit: number): string[] {
    return this.db
      .query<{ id: string }, [number, number]>("SELECT id FROM files WHERE expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?")
      .all(now, limit)
      .map((r) => r.id);
  }

  path(id: string): string {
    return join(this.dir, id);
  }

  /** One page, and whether more follow it. */
  list(page: FilePage, now = Date.now()): { data: FileRecord[]; hasMore: boolean } {
    const after = page.after === undefined ? null : (this.db.query<{ seq: number }, [string]>("SELECT seq FROM files WHERE id = ?").get(page.after)?.seq ?? null);
    const cmp = page.order === "asc" ? ">" : "<";
    const rows = this.db
      .query<FileRow, [string | null, string | null, number | null, number | null, number, number]>(
        `SELECT * FROM files WHERE (? IS NULL AND purpose != '${MESSAGE_BATCH_PURPOSE}' OR purpose = ?) AND (? IS NULL OR seq ${cmp} ?) AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq ${page.order === "asc" ? "ASC" : "DESC"} LIMIT ?`,
      )
      .all(page.purpose ?? null, page.purpose ?? null, after, after, now, page.limit + 1);
    return { data: rows.slice(0, page.limit).map(toRecord), hasMore: rows.length > page.limit };
  }

  /** Removes the row (the caller commits, then `discard`s the bytes: a row never names a missing file). */
  delete(id: string): boolean {
    return this.db.query("DELETE FROM files WHERE id = ?").run(id).changes > 0;
  }

  /** Removes a file's bytes (after its row is gone, or when it never got one). */
  discard(id: string): void {
    rmSync(this.path(id), { force: true });
  }
}

/** A file as OpenAI's File object (times in Unix seconds). */
export function fileObject(f: FileRecord) {
  return { id: f.id, object: "file" as const, bytes: f.bytes, created_at: Math.floor(f.createdAt / 1000), filename: f.filename, purpose: f.purpose, status: "processed" as const, status_details: null, expires_at: f.expiresAt === null ? null : Math.floor(f.expiresAt / 1000) };
}
