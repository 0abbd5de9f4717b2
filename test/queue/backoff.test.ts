// Jobs backing off (ADR 0017) are out of the scheduler's input until their time comes, and
// leaving them out costs no scan: the partial indexes do not hold them.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ASYNC, type Queue } from "../../src/queue/queue.ts";
import type { Store } from "../../src/store/open.ts";
import { testQueue, type TestQueue } from "../harness.ts";

let t: TestQueue;
let store: Store;
let queue: Queue;
const now = 1_000;
beforeEach(() => ({ store, queue } = t = testQueue(() => now)));
afterEach(() => t.remove());

const add = (model: string) => queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model, request: JSON.stringify({ model }) });
function backOff(id: string, until: number) {
  queue.transition(id, "working", { attempt: true });
  return queue.transition(id, "queued", { failure: true, notBefore: until });
}

describe("backing off", () => {
  test("a job backing off is not a candidate until released; the next release time is known", () => {
    const a = add("m");
    const b = add("m");
    expect(backOff(a.id, 5_000).notBefore).toBe(5_000);
    expect(queue.heads().models.map((h) => h.best.id)).toEqual([b.id]);
    queue.transition(b.id, "working");
    expect(queue.heads().models).toEqual([]);
    expect(queue.nextRelease()).toBe(5_000);
    expect(queue.releaseDue(4_999)).toBe(0);
    expect(queue.releaseDue(5_000)).toBe(1);
    expect(queue.get(a.id)!.notBefore).toBeNull();
    expect(queue.heads().models.map((h) => h.best.id)).toEqual([a.id]);
    expect(queue.nextRelease()).toBeNull();
    // it is still queued all along: counted, and placed in line
    expect(queue.get(a.id)!.status).toBe("queued");
  });

  test("any other transition ends the back-off", () => {
    const a = add("m");
    backOff(a.id, 5_000);
    expect(queue.transition(a.id, "canceled").notBefore).toBeNull();
    expect(queue.nextRelease()).toBeNull();
  });

  test("with many jobs backing off, the scheduler's input and the release are index seeks", () => {
    const insert = store.db.query(`INSERT INTO jobs (id, lane, endpoint, model, model_key, drain_key, priority, status, created_at, queued_at, updated_at, not_before) VALUES (?1, 1, '/api/chat', ?2, ?3, ?3, 0, 'queued', ?4, ?5, ?6, ?7)`);
    store.db.transaction(() => {
      for (let n = 0; n < 50_000; n++) insert.run(`x${n}`, `m${n % 5}`, `m${n % 5}:latest`, n, n, n, 10_000 + n);
    })();
    const due = add("m0");
    const heads = queue.heads();
    expect(heads.models.map((h) => h.best.id)).toEqual([due.id]);
    expect(queue.nextRelease()).toBe(10_000);
    const plan = (sql: string) => (store.db.query(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join(" | ");
    expect(plan("UPDATE jobs SET not_before = NULL WHERE not_before <= 10005")).toContain("USING INDEX jobs_not_before");
    expect(plan("SELECT MIN(not_before) AS at FROM jobs WHERE not_before IS NOT NULL")).toContain("jobs_not_before");
    expect(queue.releaseDue(10_004)).toBe(5);
    expect(queue.heads().models).toHaveLength(5);
  });
});
