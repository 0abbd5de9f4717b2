// FOREMAN_SYNC reaches the connection, and deferred commits: what waits for a sync runs only
// after one, and a sync always comes (ADR 0016).
import { afterEach, describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { openStore, type Store } from "../../src/store/open.ts";
import { startTestForeman, tempDir, waitFor } from "../harness.ts";

const FULL = 2;
const NORMAL = 1;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function open(sync?: "full" | "normal"): Store {
  const dir = tempDir();
  const store = openStore(`${dir.path}/foreman.db`, sync ? { sync } : {});
  cleanups.push(() => dir.remove(), () => store.close());
  return store;
}

const synchronous = (store: Store) => store.db.query<{ synchronous: number }, []>("PRAGMA synchronous").get()!.synchronous;

describe("FOREMAN_SYNC", () => {
  test("defaults to full; normal is accepted; anything else is refused naming the variable", () => {
    const byDefault = parseConfig([], {});
    expect(byDefault.ok && byDefault.config.sync).toBe("full");
    const normal = parseConfig([], { FOREMAN_SYNC: "normal" });
    expect(normal.ok && normal.config.sync).toBe("normal");
    expect(parseConfig(["--sync", "off"], {})).toEqual({ ok: false, error: 'invalid --sync "off": expected one of "full", "normal"' });
  });

  test("reaches the connection: PRAGMA synchronous reads FULL by default and NORMAL when asked", async () => {
    const byDefault = await startTestForeman({ target: "http://127.0.0.1:9", pollIntervalMs: 60_000 });
    cleanups.push(() => byDefault.stop());
    expect(synchronous(byDefault.services.store)).toBe(FULL);
    const normal = await startTestForeman({ target: "http://127.0.0.1:9", pollIntervalMs: 60_000, sync: "normal" });
    cleanups.push(() => normal.stop());
    expect(synchronous(normal.services.store)).toBe(NORMAL);
  });

  test("a store opened without a setting syncs fully", () => {
    expect(synchronous(open())).toBe(FULL);
    expect(synchronous(open("normal"))).toBe(NORMAL);
  });
});

describe("deferred commits", () => {
  function table(store: Store) {
    store.db.exec("CREATE TABLE t (n INTEGER)");
    const insert = store.db.query<never, [number]>("INSERT INTO t VALUES (?)");
    return (n: number, deferred: boolean) => store.durability.commit(store.db.transaction(() => insert.run(n)), deferred);
  }

  test("what waits for a deferred commit runs only after its fsync, which starts at once; the connection is back at FULL", async () => {
    const store = open();
    const write = table(store);
    const { durability } = store;
    const heard: string[] = [];
    write(1, true);
    expect(synchronous(store)).toBe(FULL);
    expect(durability.synced).toBeLessThan(durability.written);
    durability.afterSync(() => heard.push("first"));
    const settled = durability.settled().then(() => heard.push("settled"));
    expect(heard).toEqual([]); // the fsync runs off the event loop: nothing has been told yet
    await settled;
    expect(heard).toEqual(["first", "settled"]);
    expect(durability.synced).toBe(durability.written);
    // nothing pending: at once
    durability.afterSync(() => heard.push("now"));
    expect(heard.at(-1)).toBe("now");
  });

  test("a commit made while an fsync runs waits for the next one, and the order of what waits is kept", async () => {
    const store = open();
    const write = table(store);
    const { durability } = store;
    const heard: string[] = [];
    write(1, true);
    const first = durability.written;
    durability.afterSync(() => heard.push(`1 when ${durability.synced >= first}`)); // starts an fsync
    write(2, true);
    const second = durability.written;
    durability.afterSync(() => heard.push(`2 when ${durability.synced >= second}`)); // needs the next fsync
    durability.afterSync(() => heard.push("3"));
    await durability.settled();
    expect(heard).toEqual(["1 when true", "2 when true", "3"]);
  });

  test("what arrives while an fsync runs, with nothing new committed, waits for that fsync", async () => {
    const store = open();
    const write = table(store);
    const { durability } = store;
    const heard: string[] = [];
    write(1, true);
    durability.afterSync(() => heard.push("covered"));
    durability.afterSync(() => heard.push("late"));
    expect(heard).toEqual([]);
    await durability.settled();
    expect(heard).toEqual(["covered", "late"]);
  });

  test("a synced commit that writes covers earlier deferred ones; one that writes nothing does not", () => {
    const store = open();
    const write = table(store);
    const { durability } = store;
    write(1, true);
    const heard: string[] = [];
    const read = () => durability.commit(store.db.transaction(() => store.db.query("SELECT COUNT(*) FROM t").get()), false);
    // what waits is queued behind the fsync afterSync started; a synced commit overtakes it
    durability.afterSync(() => heard.push("waited"));
    read();
    expect(heard).toEqual([]);
    write(2, false);
    // released at the next look, never from inside the commit
    durability.afterSync(() => heard.push("next"));
    expect(heard).toEqual(["waited", "next"]);
  });

  test("syncNow puts deferred commits on disk before it returns", () => {
    const store = open();
    const write = table(store);
    write(1, true);
    const heard: string[] = [];
    store.durability.afterSync(() => heard.push("synced"));
    store.durability.syncNow();
    expect(heard).toEqual(["synced"]);
  });

  test("a deferred commit that rolls back leaves nothing to wait for", () => {
    const store = open();
    store.db.exec("CREATE TABLE t (n INTEGER)");
    const tx = store.db.transaction(() => {
      store.db.query("INSERT INTO t VALUES (1)").run();
      throw new Error("no");
    });
    expect(() => store.durability.commit(tx, true)).toThrow("no");
    let heard = false;
    store.durability.afterSync(() => (heard = true));
    expect(heard).toBe(true);
    expect(synchronous(store)).toBe(FULL);
  });

  test("with FOREMAN_SYNC=normal nothing ever waits", () => {
    const store = open("normal");
    const write = table(store);
    write(1, true);
    let heard = false;
    store.durability.afterSync(() => (heard = true));
    expect(heard).toBe(true);
    expect(synchronous(store)).toBe(NORMAL);
  });
});
