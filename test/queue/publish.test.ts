// "After commit" means after commit: listeners hear of events outside any transaction, in commit
// order, and a deferred commit's events only once it is on disk (ADR 0016).
import { afterEach, beforeEach, expect, test } from "bun:test";
import { ASYNC, type Queue } from "../../src/queue/queue.ts";
import type { Store } from "../../src/store/open.ts";
import { testQueue, waitFor, type TestQueue } from "../harness.ts";

let t: TestQueue;
let store: Store;
let queue: Queue;
beforeEach(() => ({ store, queue } = t = testQueue()));
afterEach(() => t.remove());

const add = (model: string) => queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model, request: "{}" });

test("events of deferred and synced commits reach listeners outside any transaction, in commit order, once on disk", async () => {
  const heard: { what: string; inTransaction: boolean; onDisk: boolean }[] = [];
  queue.onCommitted((job, event) => heard.push({ what: `${job.model}:${event.type}`, inTransaction: store.db.inTransaction, onDisk: store.durability.synced >= store.durability.written }));
  const a = add("a"); // synced: heard at once
  expect(heard.map((h) => h.what)).toEqual(["a:queued"]);
  queue.atomically(() => queue.transition(a.id, "working"), "deferred");
  expect(heard).toHaveLength(1); // not on disk yet
  add("b"); // a synced commit covers the deferred one before it: both are heard, the older first
  expect(heard.map((h) => h.what)).toEqual(["a:queued", "a:working", "b:queued"]);
  queue.atomically(() => queue.transition(a.id, "done"), "deferred");
  await waitFor(() => heard.length === 4, { what: "the fsync to release a:done" });
  expect(heard.map((h) => h.what)).toEqual(["a:queued", "a:working", "b:queued", "a:done"]);
  expect(heard.filter((h) => h.inTransaction || !h.onDisk)).toEqual([]);
});

test("a listener may write: its own transaction is a transaction of its own, not part of the one that published", () => {
  const b = add("b");
  queue.onCommitted((job, event) => {
    if (job.id !== b.id && event.type === "queued") queue.transition(b.id, "canceled");
  });
  add("c");
  expect(queue.get(b.id)!.status).toBe("canceled");
  expect(store.db.inTransaction).toBe(false);
});
