// The batch progress bar and its plain lines, and the pure helpers of `foreman batch`: no I/O,
// the time a parameter.
import { describe, expect, test } from "bun:test";
import type { Batch } from "foreman/client";
import { addSample, batchPercent, lineRate, plainBatchLine, renderBatchBar } from "../../src/cli/batch-progress.ts";
import { endpointOfFirstLine, exitCodeOfBatch } from "../../src/cli/batches.ts";

const batch = (status: Batch["status"], total: number, completed: number, failed = 0): Batch =>
  ({ id: "batch_1", status, request_counts: { total, completed, failed } }) as Batch;

describe("batch progress", () => {
  test("the rate is lines ended a second over the samples; none from one sample", () => {
    const one = addSample([], batch("in_progress", 100, 0), 1000);
    expect(lineRate(one)).toBe(0);
    const two = addSample(one, batch("in_progress", 100, 8, 2), 3000);
    expect(lineRate(two)).toBe(5);
    // at most 30 samples kept: the rate follows the recent ones
    let many = two;
    for (let i = 1; i <= 40; i++) many = addSample(many, batch("in_progress", 1000, 10 + i), 3000 + i * 1000);
    expect(many).toHaveLength(30);
    expect(lineRate(many)).toBe(1);
  });

  test("the bar: percent, counts with failures, rate and time left; fitted to the width, never wrapping", () => {
    const b = batch("in_progress", 50, 20, 1);
    const samples = [{ at: 0, done: 11 }, { at: 2000, done: 21 }];
    const line = renderBatchBar(b, samples, 100);
    expect(line).toMatch(/^batch_1  in_progress  42% ▕█+ +▏ 21\/50 done, 1 failed  5\.0\/s  ETA 6s$/);
    expect(line.length).toBe(99);
    // narrower: the bar goes before the rate and time left, then the rate, then the line is cut
    expect(renderBatchBar(b, samples, 70)).toBe("batch_1  in_progress  42% 21/50 done, 1 failed  5.0/s  ETA 6s");
    expect(renderBatchBar(b, samples, 60)).toBe("batch_1  in_progress  42% ▕████      ▏ 21/50 done, 1 failed");
    expect(renderBatchBar(b, samples, 40)).toBe("batch_1  in_progress  42% 21/50 done, …");
    expect(renderBatchBar(b, samples, 40).length).toBe(39);
    // no total yet (validating): the status alone
    expect(renderBatchBar(batch("validating", 0, 0), [], 80)).toBe("batch_1  validating");
    expect(batchPercent(batch("validating", 0, 0))).toBeNull();
    // every line ended: no rate, no time left
    expect(renderBatchBar(batch("completed", 4, 4), samples, 60)).toMatch(/^batch_1  completed 100% ▕█+▏ 4\/4 done$/);
  });

  test("plain lines: the first poll, each status change and each quarter; nothing between", () => {
    const a = batch("in_progress", 100, 10);
    expect(plainBatchLine(undefined, a)).toBe("batch_1: in_progress 10/100 done (10%)");
    expect(plainBatchLine(a, batch("in_progress", 100, 20))).toBeNull();
    expect(plainBatchLine(a, batch("in_progress", 100, 24, 1))).toBe("batch_1: in_progress 25/100 done, 1 failed (25%)");
    expect(plainBatchLine(batch("in_progress", 100, 99), batch("completed", 100, 99, 1))).toBe("batch_1: completed 100/100 done, 1 failed (100%)");
  });

  test("the endpoint comes from the first line's url; exit 0 only for a completed batch", () => {
    expect(endpointOfFirstLine('{"custom_id":"a","url":"/v1/embeddings"}\n{"url":"/v1/completions"}')).toBe("/v1/embeddings");
    expect(endpointOfFirstLine("not json")).toBeUndefined();
    expect(endpointOfFirstLine('{"custom_id":"a"}')).toBeUndefined();
    expect(exitCodeOfBatch(batch("completed", 1, 0, 1))).toBe(0);
    for (const s of ["failed", "expired", "cancelled"] as const) expect(exitCodeOfBatch(batch(s, 1, 0))).toBe(1);
  });
});
