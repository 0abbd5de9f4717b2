// Scheduled starts, expiry and run-time caps (ADR 0035): reading run_after, start_by and max_run
// (pure), and the queue keeping a scheduled job out of the scheduler's reach until it falls due.
import { describe, expect, test } from "bun:test";
import { delayUntil, formatGoDuration, MAX_HORIZON_MS, parseMaxRun, parseWhen, runCapMs, scheduleOf } from "../../src/queue/schedule.ts";
import { ASYNC } from "../../src/queue/queue.ts";
import { testQueue } from "../harness.ts";

const NOW = Date.parse("2026-12-06T18:00:00Z");

describe("reading the times (pure)", () => {
  test("an RFC 3339 date-time, with Z, an offset or fractional seconds", () => {
    expect(parseWhen("2026-12-07T09:00:00Z", NOW)).toBe(Date.parse("2026-12-07T09:00:00Z"));
    expect(parseWhen("2026-12-07T10:00:00+01:00", NOW)).toBe(Date.parse("2026-12-07T09:00:00Z"));
    expect(parseWhen("2026-12-07t09:00:00.250z", NOW)).toBe(Date.parse("2026-12-07T09:00:00.250Z"));
  });

  test("a Go duration from now", () => {
    expect(parseWhen("2h", NOW)).toBe(NOW + 7_200_000);
    expect(parseWhen("1h30m", NOW)).toBe(NOW + 5_400_000);
    expect(parseWhen("0", NOW)).toBe(NOW);
  });

  test("anything else says what it expects", () => {
    for (const bad of ["tomorrow", "2026-12-07", "2026-12-07T09:00:00", "2h!", "10 minutes", "2026-13-40T99:00:00Z"]) {
      const read = parseWhen(bad, NOW);
      expect(typeof read === "object" && read.error).toBeTruthy();
    }
    expect(parseWhen("-5m", NOW)).toEqual({ error: 'a duration from now cannot be negative ("-5m")' });
  });

  test("a run-time cap is a non-negative Go duration up to a year; 0 is no cap", () => {
    expect(parseMaxRun("10m")).toBe(600_000);
    expect(parseMaxRun("1.5s")).toBe(1500);
    expect(parseMaxRun("0s")).toBe(0);
    expect(parseMaxRun("-1m")).toEqual({ error: 'cannot be negative ("-1m")' });
    expect(parseMaxRun("8785h")).toEqual({ error: "at most a year (8784h)" });
    expect(parseMaxRun("ten")).toHaveProperty("error");
  });

  test("the cap an attempt gets: the job's own, else the lane default; 0 is none", () => {
    expect(runCapMs(null, 0)).toBeNull();
    expect(runCapMs(null, 60_000)).toBe(60_000);
    expect(runCapMs(5000, 60_000)).toBe(5000);
    expect(runCapMs(0, 60_000)).toBeNull();
    expect(runCapMs(5000, 0)).toBe(5000);
  });

  test("a cap prints as Go's time.Duration does", () => {
    expect([0, 250, 1500, 60_000, 600_000, 5_400_000, 3_600_000, 3_723_500].map(formatGoDuration)).toEqual(["0s", "250ms", "1.5s", "1m0s", "10m0s", "1h30m0s", "1h0m0s", "1h2m3.5s"]);
  });

  test("a timer delay is never negative and never past what setTimeout takes", () => {
    expect(delayUntil(NOW - 10, NOW)).toBe(0);
    expect(delayUntil(NOW + 10, NOW)).toBe(10);
    expect(delayUntil(NOW + MAX_HORIZON_MS, NOW)).toBe(2 ** 31 - 1);
  });
});

describe("a submission's schedule (pure)", () => {
  test("nothing asked: no gate, no expiry, the default cap", () => {
    expect(scheduleOf({}, NOW)).toEqual({ runAfter: null, startBy: null, notBefore: null, maxRunMs: null });
  });

  test("a start in the future gates the job; one in the past does not", () => {
    expect(scheduleOf({ run_after: "2h", start_by: "9h", max_run: "10m" }, NOW)).toEqual({ runAfter: NOW + 7_200_000, startBy: NOW + 32_400_000, notBefore: NOW + 7_200_000, maxRunMs: 600_000 });
    expect(scheduleOf({ run_after: "2026-12-06T17:00:00Z" }, NOW)).toEqual({ runAfter: NOW - 3_600_000, startBy: null, notBefore: null, maxRunMs: null });
  });

  test.each([
    [{ run_after: "soon" }, "/run_after", /expected an RFC 3339 date-time/],
    [{ run_after: "9000h" }, "/run_after", /more than a year ahead/],
    [{ start_by: "2026-12-06T17:00:00Z" }, "/start_by", /has already passed/],
    [{ start_by: "0s" }, "/start_by", /has already passed/],
    [{ run_after: "2h", start_by: "1h" }, "/start_by", /must be after run_after/],
    [{ run_after: "2h", start_by: "2h" }, "/start_by", /must be after run_after/],
    [{ max_run: "-1m" }, "/max_run", /cannot be negative/],
    [{ max_run: "10 minutes" }, "/max_run", /expected a duration/],
  ])("%j is refused on %s", (input, field, message) => {
    const read = scheduleOf(input, NOW);
    expect(read).toEqual({ field, error: expect.stringMatching(message) });
  });
});

describe("the queue", () => {
  const chat = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] });

  test("a scheduled job stays out of the scheduler's heads until it falls due, then waits (for aging) from then", () => {
    let now = NOW;
    const { queue, remove } = testQueue(() => now);
    try {
      const job = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: chat, runAfter: NOW + 60_000, startBy: NOW + 120_000, maxRunMs: 1000 });
      expect(job).toMatchObject({ runAfter: NOW + 60_000, startBy: NOW + 120_000, maxRunMs: 1000, notBefore: NOW + 60_000 });
      expect(queue.heads().models).toEqual([]);
      expect(queue.notDueCount(now)).toBe(1);
      expect(queue.nextRelease()).toBe(NOW + 60_000);
      now = NOW + 60_000;
      expect(queue.releaseDue(now)).toBe(1);
      expect(queue.notDueCount(now)).toBe(0);
      const [head] = queue.heads().models;
      expect(head).toMatchObject({ best: { id: job.id, queuedAt: NOW + 60_000 }, oldestQueuedAt: NOW + 60_000 });
    } finally {
      remove();
    }
  });

  test("expiry cancels only queued jobs never started whose start_by has come, with the reason `expired`", () => {
    let now = NOW;
    const { queue, remove } = testQueue(() => now);
    try {
      const expiring = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: chat, startBy: NOW + 1000 });
      const later = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: chat, startBy: NOW + 5000 });
      const started = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: chat, startBy: NOW + 1000 });
      // a dispatch that found the target asleep is not a start: it goes back without a failure
      const unreached = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: chat, startBy: NOW + 1000 });
      queue.transition(unreached.id, "loading", { attempt: true });
      queue.transition(unreached.id, "queued", { data: { reason: "the target is unreachable" } });
      queue.transition(started.id, "working", { attempt: true });
      queue.transition(started.id, "queued", { failure: true, notBefore: NOW + 10_000 });
      expect(queue.nextExpiry()).toBe(NOW + 1000);
      expect(queue.expireDue(NOW + 999)).toBe(0);
      now = NOW + 1000;
      expect(queue.expireDue(now)).toBe(2);
      expect(queue.get(expiring.id)!.status).toBe("canceled");
      expect(queue.get(unreached.id)!.status).toBe("canceled");
      expect(queue.events(expiring.id).at(-1)).toMatchObject({ type: "canceled", data: { reason: "expired" } });
      // a job that has started once (an attempt failed) is not expired: its start_by bounds its first start only
      expect(queue.get(started.id)!.status).toBe("queued");
      expect(queue.get(later.id)!.status).toBe("queued");
      expect(queue.nextExpiry()).toBe(NOW + 5000);
    } finally {
      remove();
    }
  });
});
