// The webhook circuit breaker's rules, without I/O: slots grow only with answers, silence opens
// the breaker for a cool-down and then allows one probe, and open breakers share half the cap.
import { describe, expect, test } from "bun:test";
import { answered, freeSlots, MAX_COOL_DOWN_MS, unanswered, UNKNOWN, type DestinationHealth } from "../../src/webhooks/breaker.ts";

const CAPS = { concurrency: 64, perDestination: 8 };
const SCHEDULE = [5_000, 30_000, 120_000];
const idle = { here: 0, open: 0, all: 0 };

function afterAnswers(n: number): DestinationHealth {
  let h = UNKNOWN;
  for (let i = 0; i < n; i++) h = answered(h, CAPS);
  return h;
}

describe("rule 1: slots are proven by answers", () => {
  test("a destination not heard from gets one slot; each answer doubles them up to the per-destination cap", () => {
    expect([0, 1, 2, 3, 4, 10].map((n) => freeSlots(afterAnswers(n), idle, 0, CAPS))).toEqual([1, 2, 4, 8, 8, 8]);
  });
  test("deliveries in flight to it, or in all, use up its slots", () => {
    const h = afterAnswers(3);
    expect(freeSlots(h, { here: 5, open: 0, all: 5 }, 0, CAPS)).toBe(3);
    expect(freeSlots(h, { here: 8, open: 0, all: 8 }, 0, CAPS)).toBe(0);
    expect(freeSlots(h, { here: 0, open: 0, all: 62 }, 0, CAPS)).toBe(2);
    expect(freeSlots(h, { here: 0, open: 0, all: 64 }, 0, CAPS)).toBe(0);
  });
});

describe("rules 2 and 3: silence opens the breaker; after a cool-down, one probe at a time", () => {
  test("a silent attempt leaves nothing to send until the cool-down (the schedule's first step) has passed", () => {
    const h = unanswered(afterAnswers(3), 1_000, SCHEDULE);
    expect(h).toEqual({ slots: 1, silent: 1, probeAt: 6_000 });
    expect(freeSlots(h, idle, 5_999, CAPS)).toBe(0);
    expect(freeSlots(h, idle, 6_000, CAPS)).toBe(1);
    expect(freeSlots(h, { here: 1, open: 1, all: 1 }, 6_000, CAPS)).toBe(0);
  });
  test("each silent attempt in a row takes the next step of the schedule, capped at a minute, then its last step", () => {
    let h = UNKNOWN;
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      h = unanswered(h, 0, SCHEDULE);
      waits.push(h.probeAt);
    }
    expect(waits).toEqual([5_000, 30_000, MAX_COOL_DOWN_MS, MAX_COOL_DOWN_MS, MAX_COOL_DOWN_MS]);
    expect(unanswered(UNKNOWN, 0, [20]).probeAt).toBe(20);
    expect(unanswered(unanswered(UNKNOWN, 0, [20]), 0, [20]).probeAt).toBe(20);
  });
  test("an answer to the probe closes the breaker, and the destination starts again from one slot", () => {
    const open = unanswered(unanswered(afterAnswers(4), 0, SCHEDULE), 0, SCHEDULE);
    const closed = answered(open, CAPS);
    expect(closed).toEqual(UNKNOWN);
    expect(freeSlots(closed, idle, 0, CAPS)).toBe(1);
    expect(freeSlots(answered(closed, CAPS), idle, 0, CAPS)).toBe(2);
  });
});

describe("rule 4: open breakers share half the global cap", () => {
  test("a probe waits while half the cap is taken by probes, though the cap itself is not full", () => {
    const h = unanswered(UNKNOWN, 0, SCHEDULE);
    expect(freeSlots(h, { here: 0, open: 31, all: 40 }, 10_000, CAPS)).toBe(1);
    expect(freeSlots(h, { here: 0, open: 32, all: 40 }, 10_000, CAPS)).toBe(0);
    // a destination that answers is not held back by them
    expect(freeSlots(afterAnswers(3), { here: 0, open: 32, all: 40 }, 10_000, CAPS)).toBe(8);
  });
  test("with a cap of one, the one slot can still probe", () => {
    const one = { concurrency: 1, perDestination: 1 };
    expect(freeSlots(unanswered(UNKNOWN, 0, [10]), idle, 10, one)).toBe(1);
  });
});
