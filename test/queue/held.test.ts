// A batch's lines while the batch is queued (ADR 0041): held out of the scheduler like a back-off
// but released by no time, only by their batch's one commit (releaseHeld), or dropped with their
// events when the batch is cancelled while queueing (dropHeld).
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Batches } from "../../src/queue/batches.ts";
import { ASYNC, type Queue } from "../../src/queue/queue.ts";
import { testQueue, type TestQueue } from "../harness.ts";

let t: TestQueue;
let queue: Queue;
let batches: Batches;
const now = 1_000;
beforeEach(() => {
  t = testQueue(() => now);
  queue = t.queue;
  batches = new Batches(t.store.db);
});
afterEach(() => t.remove());

const hold = (batch: string, customId: string) => {
  const job = queue.enqueue({ lane: ASYNC, endpoint: "/v1/embeddings", model: "m", request: "{}", held: true });
  batches.attach(job.id, batch, customId);
  return job;
};

describe("held batch lines", () => {
  test("are queued but no candidate, no release time and not in the forecast's later work, whatever the clock", () => {
    const plain = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "m", request: "{}" });
    const a = hold("batch_1", "a");
    expect(queue.get(a.id)!.status).toBe("queued");
    expect(queue.queuedCount).toBe(2);
    expect(queue.heads().models.map((h) => h.best.id)).toEqual([plain.id]);
    expect(queue.nextRelease()).toBeNull();
    expect(queue.releaseDue(Number.MAX_SAFE_INTEGER - 1)).toBe(0);
    expect(queue.notDueCount(now)).toBe(1);
    expect(queue.backlog().later(0, 10)).toEqual([]);
    expect(queue.events(a.id).map((e) => e.type)).toEqual(["queued"]);
  });

  test("releaseHeld makes one batch's lines runnable in one step and tells the onRunnable listeners; other batches stay held", async () => {
    const a = hold("batch_1", "a");
    const b = hold("batch_1", "b");
    const other = hold("batch_2", "a");
    let told = 0;
    queue.onRunnable(() => told++);
    expect(queue.releaseHeld("batch_1")).toBe(2);
    await queue.settled();
    expect(told).toBe(1);
    expect(queue.get(a.id)!.notBefore).toBeNull();
    expect(queue.heads().models.map((h) => h.best.id)).toEqual([a.id]);
    expect(queue.get(b.id)!.notBefore).toBeNull();
    expect(queue.get(other.id)!.notBefore).not.toBeNull();
    expect(queue.releaseHeld("batch_1")).toBe(0);
  });

  test("dropHeld removes a batch's held lines and their events, and the queued count with them; released ones stay", () => {
    const a = hold("batch_1", "a");
    hold("batch_1", "b");
    const kept = hold("batch_2", "a");
    queue.releaseHeld("batch_2");
    expect(queue.dropHeld("batch_1")).toBe(2);
    expect(queue.get(a.id)).toBeNull();
    expect(queue.events(a.id)).toEqual([]);
    expect(queue.queuedCount).toBe(1);
    expect(queue.dropHeld("batch_2")).toBe(0);
    expect(queue.get(kept.id)!.status).toBe("queued");
  });
});
