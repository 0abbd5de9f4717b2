// The deliveries table's reading rules, on SQLite directly: only the head of each job's
// pending deliveries is due (in order per job), per destination; a job's later deliveries
// never fall due before its head, so a backing-off head keeps its backlog out of every look.
import { afterEach, describe, expect, test } from "bun:test";
import { openStore, type Store } from "../../src/store/open.ts";
import { Deliveries } from "../../src/webhooks/deliveries.ts";

let store: Store | undefined;
afterEach(() => {
  store?.close();
  store = undefined;
});

function table(): Deliveries {
  store = openStore(":memory:");
  return new Deliveries(store.db);
}

const X = "http://127.0.0.1:1";
const Y = "http://127.0.0.1:2";
const failed = (at: number) => ({ at, status: 500, error: "receiver answered 500", durationMs: 1 });
const ok = (at: number) => ({ at, status: 200, error: null, durationMs: 1 });
const events = (rows: Deliveries, dest: string, now: number) => rows.due(dest, now, 100).map((r) => r.event_type);
const nextAttempts = (job: string) => (store!.db.query("SELECT event_type, next_attempt_at AS at FROM webhook_deliveries WHERE job_id = ? AND status = 'pending' ORDER BY id").all(job) as { event_type: string; at: number }[]).map((r) => [r.event_type, r.at]);

describe("deliveries", () => {
  test("per destination, only each job's first pending delivery is due; destinations list with their earliest due time", () => {
    const rows = table();
    rows.add(1, "a", "job.queued", `${X}/hook`, "{}", 1000);
    rows.add(2, "a", "job.working", `${X}/hook`, "{}", 1001);
    rows.add(3, "b", "job.queued", `${X}/other?x=1`, "{}", 1002);
    rows.add(4, "c", "job.queued", `${Y}/hook`, "{}", 1003);
    expect(rows.destinations()).toEqual([
      { destination: X, due: 1000 },
      { destination: Y, due: 1003 },
    ]);
    expect(events(rows, X, 2000)).toEqual(["job.queued", "job.queued"]);
    expect(rows.due(X, 2000, 100).map((r) => r.job_id)).toEqual(["a", "b"]);
    expect(events(rows, Y, 2000)).toEqual(["job.queued"]);
    expect(events(rows, X, 1000)).toEqual(["job.queued"]);
    expect(rows.due(X, 2000, 1).map((r) => r.job_id)).toEqual(["a"]);
  });

  test("a head that backs off holds back its job's later deliveries, those written later too; they follow once it is settled", () => {
    const rows = table();
    rows.add(1, "a", "job.queued", `${X}/hook`, "{}", 1000);
    rows.add(2, "a", "job.working", `${X}/hook`, "{}", 1001);
    rows.add(3, "b", "job.queued", `${X}/hook`, "{}", 1002);
    const head = rows.due(X, 1010, 100)[0]!;
    rows.record(head.id, failed(1010), 5000);
    expect(nextAttempts("a")).toEqual([
      ["job.queued", 5000],
      ["job.working", 5000],
    ]);
    rows.add(4, "a", "job.done", `${X}/hook`, "{}", 1020);
    expect(nextAttempts("a").at(-1)).toEqual(["job.done", 5000]);
    // until then only b is due, and the timer aims at the retry
    expect(rows.due(X, 1030, 100).map((r) => r.job_id)).toEqual(["b"]);
    expect(rows.nextDueAfter(1030)).toBe(5000);
    rows.record(head.id, ok(5000), null);
    expect(events(rows, X, 5000)).toEqual(["job.queued", "job.working"]);
    expect(rows.due(X, 5000, 100).map((r) => r.job_id)).toEqual(["b", "a"]);
  });

  test("a job whose head is due now does not push back deliveries written after it", () => {
    const rows = table();
    rows.add(1, "a", "job.queued", `${X}/hook`, "{}", 1000);
    rows.add(2, "a", "job.done", `${X}/hook`, "{}", 1500);
    expect(nextAttempts("a")).toEqual([
      ["job.queued", 1000],
      ["job.done", 1500],
    ]);
  });
});
