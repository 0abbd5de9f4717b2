// The usage ledger: a job's cost enters the rollup in the transaction that marks it done (and not
// when that rolls back), by every dimension, in the hour it finished; reports sum whole hours;
// its own retention; the times GET /usage takes.
import { afterEach, describe, expect, test } from "bun:test";
import { ASYNC, INTERACTIVE } from "../../src/queue/queue.ts";
import { hourOf, pieces, pointInTime, UsageLedger } from "../../src/queue/usage.ts";
import type { Usage } from "../../src/engine/usage.ts";
import { seededRandom, testQueue, type TestQueue } from "../harness.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 11, 1, 10, 0, 0);
let t: TestQueue | undefined;
afterEach(() => t?.remove());

function setup() {
  let now = T0;
  t = testQueue(() => now);
  const ledger = new UsageLedger(t.store.db);
  ledger.install(t.queue);
  return { queue: t.queue, ledger, at: (ms: number) => (now = ms) };
}

const usage = (prompt: number, output: number, estimated = false): Usage => ({ prompt_tokens: prompt, output_tokens: output, load_ms: 1, prompt_eval_ms: 2, generation_ms: 3, target_ms: 10, estimated });

describe("UsageLedger", () => {
  test("a job's usage counts once it is done, by model, endpoint, lane, client and tag, exact and estimated apart", () => {
    const { queue, ledger, at } = setup();
    const a = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", client: "10.0.0.2 curl", tag: "nightly" });
    const b = queue.enqueue({ lane: INTERACTIVE, endpoint: "/v1/chat/completions", model: "llama3.2" });
    const c = queue.enqueue({ lane: ASYNC, endpoint: "/api/generate", model: "mistral", client: "10.0.0.2 curl" });
    for (const j of [a, b, c]) queue.transition(j.id, "working", { attempt: true });
    at(T0 + 5 * 60_000);
    queue.transition(a.id, "done", { usage: usage(10, 20) });
    queue.transition(b.id, "done", { usage: usage(0, 7, true) });
    // a job that fails records nothing
    queue.transition(c.id, "failed", { error: { status: 500, message: "x" } });
    const { rows } = ledger.report("model", T0, T0 + HOUR);
    expect(rows).toEqual([
      { value: "llama3.2:latest", estimated: false, jobs: 1, prompt_tokens: 10, output_tokens: 20, load_ms: 1, prompt_eval_ms: 2, generation_ms: 3, target_ms: 10 },
      { value: "llama3.2:latest", estimated: true, jobs: 1, prompt_tokens: 0, output_tokens: 7, load_ms: 1, prompt_eval_ms: 2, generation_ms: 3, target_ms: 10 },
    ]);
    expect(ledger.report("lane", T0, T0 + HOUR).rows.map((r) => [r.value, r.estimated, r.output_tokens])).toEqual([
      ["async", false, 20],
      ["interactive", true, 7],
    ]);
    expect(ledger.report("tag", T0, T0 + HOUR).rows.map((r) => [r.value, r.jobs])).toEqual([
      ["", 1],
      ["nightly", 1],
    ]);
    expect(ledger.report("client", T0, T0 + HOUR).rows.map((r) => r.value)).toEqual(["", "10.0.0.2 curl"]);
    expect(ledger.report("endpoint", T0, T0 + HOUR).rows.map((r) => r.value)).toEqual(["/api/chat", "/v1/chat/completions"]);
    expect(queue.get(a.id)!.usage).toEqual(usage(10, 20));
  });

  test("a done that rolls back leaves the rollup as it was", () => {
    const { queue, ledger } = setup();
    const a = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2" });
    queue.transition(a.id, "working", { attempt: true });
    expect(() =>
      queue.atomically(() => {
        queue.transition(a.id, "done", { usage: usage(1, 1) });
        throw new Error("the disk is full");
      }),
    ).toThrow("the disk is full");
    expect(ledger.report("model", T0, T0 + HOUR).rows).toEqual([]);
  });

  test("reports sum whole hours, from the hour `since` falls in to the end of the one `until` falls in", () => {
    const { queue, ledger, at } = setup();
    for (const [i, offset] of [0, HOUR + 1, 2 * HOUR + 59 * 60_000, 5 * HOUR].entries()) {
      at(T0 + offset);
      const j = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "m" });
      queue.transition(j.id, "working", { attempt: true });
      queue.transition(j.id, "done", { usage: usage(i + 1, 100) });
    }
    const jobs = (since: number, until: number) => ledger.report("model", since, until).rows[0]?.jobs ?? 0;
    expect(jobs(T0, T0 + 6 * HOUR)).toBe(4);
    expect(jobs(T0 + 30 * 60_000, T0 + HOUR + 1)).toBe(2);
    expect(jobs(T0 + HOUR, T0 + 2 * HOUR)).toBe(1);
    expect(jobs(T0 + 3 * HOUR, T0 + 5 * HOUR)).toBe(0);
    expect(ledger.report("model", T0 + 30 * 60_000, T0 + HOUR + 1)).toMatchObject({ from: T0, to: T0 + 2 * HOUR });
  });

  test("spans of many days and weeks read in the coarsest buckets that fit: the same sums as the jobs themselves", () => {
    const { queue, ledger, at } = setup();
    const random = seededRandom("usage spans");
    const finished: { at: number; output: number }[] = [];
    for (let i = 0; i < 300; i++) {
      const when = T0 + Math.floor(random() * 40 * 24 * HOUR);
      const output = 1 + Math.floor(random() * 50);
      const j = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "m" });
      queue.transition(j.id, "working", { attempt: true });
      at(when);
      queue.transition(j.id, "done", { usage: usage(1, output) });
      finished.push({ at: when, output });
    }
    for (let i = 0; i < 200; i++) {
      const a = T0 - 2 * HOUR + Math.floor(random() * 41 * 24 * HOUR);
      const b = a + Math.floor(random() * random() * 30 * 24 * HOUR);
      const { from, to, rows } = ledger.report("model", a, b);
      const inside = finished.filter((f) => f.at >= from && f.at < to);
      expect({ jobs: rows[0]?.jobs ?? 0, output: rows[0]?.output_tokens ?? 0 }, `${new Date(a).toISOString()} to ${new Date(b).toISOString()}`).toEqual({
        jobs: inside.length,
        output: inside.reduce((n, f) => n + f.output, 0),
      });
    }
  });

  test("pieces: whole weeks inside, whole days beside them, hours at either end", () => {
    const week = 7 * 24 * HOUR;
    const day = 24 * HOUR;
    const w = Math.floor(T0 / week) * week + week; // a week's start
    expect(pieces(w - day - 2 * HOUR, w + week + day + 3 * HOUR)).toEqual([
      { span: HOUR, from: w - day - 2 * HOUR, to: w - day },
      { span: day, from: w - day, to: w },
      { span: week, from: w, to: w + week },
      { span: day, from: w + week, to: w + week + day },
      { span: HOUR, from: w + week + day, to: w + week + day + 3 * HOUR },
    ]);
    expect(pieces(w + HOUR, w + 5 * HOUR)).toEqual([{ span: HOUR, from: w + HOUR, to: w + 5 * HOUR }]);
    expect(pieces(w, w + 2 * day)).toEqual([{ span: day, from: w, to: w + 2 * day }]);
    expect(pieces(w, w)).toEqual([]);
  });

  test("its own retention drops the buckets that ended before the cutoff, and nothing of the jobs", () => {
    const { queue, ledger, at } = setup();
    for (const offset of [0, 3 * HOUR]) {
      at(T0 + offset);
      const j = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "m" });
      queue.transition(j.id, "working", { attempt: true });
      queue.transition(j.id, "done", { usage: usage(1, 1) });
    }
    // the first job's hour has ended (one row per dimension); its day and week have not
    expect(ledger.prune(T0 + 2 * HOUR + 30 * 60_000)).toBe(5);
    expect(ledger.report("model", T0, T0 + 4 * HOUR).rows[0]!.jobs).toBe(1);
    // then the second one's hour, and the day and the week both finished in
    expect(ledger.prune(T0 + 30 * 24 * HOUR)).toBe(15);
    expect(ledger.report("model", T0, T0 + 30 * 24 * HOUR).rows).toEqual([]);
    expect(queue.list({ lane: ASYNC, limit: 10 })).toHaveLength(2);
  });
});

describe("pointInTime", () => {
  const now = T0 + 123;
  test("a span back from now, or an RFC 3339 time", () => {
    expect(pointInTime("90m", now)).toBe(now - 90 * 60_000);
    expect(pointInTime("24h", now)).toBe(now - 24 * HOUR);
    expect(pointInTime("7d", now)).toBe(now - 7 * 24 * HOUR);
    expect(pointInTime("2w", now)).toBe(now - 14 * 24 * HOUR);
    expect(pointInTime("2026-12-01T10:00:00Z", now)).toBe(T0);
    expect(pointInTime("2026-12-01T11:30:00.5+01:00", now)).toBe(T0 + 30 * 60_000 + 500);
    expect(hourOf(T0 + 59 * 60_000)).toBe(T0);
  });

  test("anything else is null", () => {
    for (const bad of ["", "7", "7y", "-1d", "yesterday", "2026-12-01", "2026-12-01 10:00:00Z", "2026-13-01T10:00:00Z", "1234567d"]) expect(pointInTime(bad, now), bad).toBeNull();
  });
});
