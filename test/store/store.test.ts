import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { migrations } from "../../src/store/migrations.ts";
import { openStore, SCHEMA_VERSION, StoreError } from "../../src/store/open.ts";
import { BUN, tempDir } from "../harness.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
function dbPath(): string {
  const d = tempDir();
  dirs.push(d);
  return join(d.path, "nested", "foreman.db");
}

describe("store", () => {
  test("creates the directory, runs every migration, uses WAL", () => {
    const path = dbPath();
    const store = openStore(path);
    expect(store.version).toBe(migrations.length);
    expect(SCHEMA_VERSION).toBe(migrations.length);
    expect(store.db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    const tables = store.db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[];
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["artifacts", "delivery_attempts", "job_events", "jobs", "webhook_deliveries"]));
    store.close();
  });

  test("reopening an up-to-date database changes nothing", () => {
    const path = dbPath();
    openStore(path).close();
    const again = openStore(path);
    expect(again.version).toBe(SCHEMA_VERSION);
    again.close();
  });

  test("a database from a newer foreman is refused with a clear message", () => {
    const path = dbPath();
    openStore(path).close();
    const raw = new Database(path);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    expect(() => openStore(path)).toThrow(StoreError);
    expect(() => openStore(path)).toThrow(/newer than this foreman understands/);
  });

  test("a second store on the same file in this process is refused", () => {
    const path = dbPath();
    const first = openStore(path);
    expect(() => openStore(path)).toThrow(/in use by another foreman process/);
    first.close();
    openStore(path).close(); // released on close
  });

  test("a full disk at start-up is reported as a full disk, not as another foreman holding the database", () => {
    const path = dbPath();
    openStore(path).close();
    // every write to /dev/full fails with ENOSPC: the lock file sits on a disk with no space left
    rmSync(`${path}.lock`);
    symlinkSync("/dev/full", `${path}.lock`);
    let message = "";
    try {
      openStore(path).close();
    } catch (err) {
      expect(err).toBeInstanceOf(StoreError);
      message = (err as Error).message;
    }
    expect(message).toContain("database or disk is full");
    expect(message).not.toContain("in use by another foreman");
  });

  test("a second foreman process is refused while the first holds the database, and not after it dies", async () => {
    const path = dbPath();
    const holder = Bun.spawn([BUN, "-e", `const { openStore } = await import(${JSON.stringify(join(import.meta.dir, "../../src/store/open.ts"))}); openStore(${JSON.stringify(path)}); console.log("held"); await Bun.sleep(60000);`], { stdout: "pipe", stderr: "inherit" });
    const reader = holder.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("held");
    expect(() => openStore(path)).toThrow(/in use by another foreman process/);
    holder.kill("SIGKILL");
    await holder.exited;
    openStore(path).close();
  });
});
