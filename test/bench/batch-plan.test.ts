import { describe, expect, test } from "bun:test";
import { planBatches } from "../../bench/batch-plan.ts";

describe("planBatches (the scheduling rule's prediction for the batch benchmark)", () => {
  test("with an aging cap longer than the work, one load per model: the first queued, then the others oldest first", () => {
    const plan = planBatches(
      [
        { model: "embed", lines: 500, queuedAt: 0, lineMs: 2 },
        { model: "chat-b", lines: 100, queuedAt: 10, lineMs: 5 },
        { model: "chat-a", lines: 100, queuedAt: 10, lineMs: 5 },
      ],
      300,
      600_000,
    );
    expect(plan.runs).toEqual([
      { model: "embed", lines: 500 },
      { model: "chat-a", lines: 100 },
      { model: "chat-b", lines: 100 },
    ]);
    expect(plan.loads).toBe(3);
    expect(plan.endMs).toBe(500 * 2 + 200 * 5 + 3 * 300);
  });

  test("an aging cap shorter than the work forces a switch each time the waiting model has waited it, counted from when it was left", () => {
    // 10 ms lines, a 50 ms load: 25 lines fill 300 ms (the first with its load), then the other model has waited the cap
    const plan = planBatches(
      [
        { model: "a", lines: 100, queuedAt: 0, lineMs: 10 },
        { model: "b", lines: 100, queuedAt: 0, lineMs: 10 },
      ],
      50,
      300,
    );
    expect(plan.runs).toEqual([
      { model: "a", lines: 25 },
      { model: "b", lines: 25 },
      { model: "a", lines: 25 },
      { model: "b", lines: 25 },
      { model: "a", lines: 25 },
      { model: "b", lines: 25 },
      { model: "a", lines: 25 },
      { model: "b", lines: 25 },
    ]);
    expect(plan.loads).toBe(8);
    expect(plan.endMs).toBe(200 * 10 + 8 * 50);
  });
});
