import { describe, expect, test } from "bun:test";
import { endOf, type Attempt, type EndOfAttempt, type JobSoFar } from "../../src/engine/ending.ts";
import { MAX_RESENDS } from "../../src/engine/resend.ts";
import type { Usage } from "../../src/queue/usage-schema.ts";

const retry = { maxAttempts: 3, baseMs: 100 };
const asyncJob = (failures = 0): JobSoFar => ({ caller: false, failures });
const interactive: JobSoFar = { caller: true, failures: 0 };
const usage = { prompt_tokens: 3, output_tokens: 5 } as unknown as Usage;
const done: Attempt = { kind: "done", progress: { chunks: 4, tokens: 5 }, usage, artifact: { contentType: "application/json", body: "{}" } };
const none = { kind: "none" } as const;

describe("endOf: how each attempt's end is written and what the caller hears", () => {
  // [what happened, the job, the end written]
  const table: [string, Attempt, JobSoFar, EndOfAttempt][] = [
    ["an async job done keeps its artifact", done, asyncJob(), { operation: { name: "complete", progress: { chunks: 4, tokens: 5 }, usage, artifact: done.kind === "done" ? done.artifact : undefined! }, timings: true, reply: none }],
    ["a passthrough request done stores no artifact (its caller has the reply)", done, interactive, { operation: { name: "complete", progress: { chunks: 4, tokens: 5 }, usage }, timings: true, reply: none }],
    ["the caller went away mid-reply", { kind: "gone" }, interactive, { operation: { name: "cancel", reason: "the caller went away" }, timings: true, reply: none }],
    ["a target 4xx fails an async job at once", { kind: "target error", status: 404, message: "model not found" }, asyncJob(), { operation: { name: "fail", error: { status: 404, message: "model not found" }, failure: false }, timings: true, reply: none }],
    ["a target 5xx of a passthrough request: its caller had the answer as it was", { kind: "target error", status: 500, message: "boom" }, interactive, { operation: { name: "fail", error: { status: 500, message: "boom" }, failure: false }, timings: true, reply: none }],
    ["a target 5xx of an async job: retried after its back-off, no timings", { kind: "target error", status: 503, message: "busy" }, asyncJob(1), { operation: { name: "retryLater", error: { status: 503, message: "busy" }, delayMs: 200 }, timings: false, reply: none }],
    ["a target 5xx on the last attempt gives up, counted", { kind: "target error", status: 500, message: "boom" }, asyncJob(2), { operation: { name: "fail", failure: true, error: { status: 500, message: "boom (gave up after 3 attempts)" } }, timings: false, reply: none }],
    ["unreachable: back in line, the caller keeps waiting", { kind: "unreachable", message: "asleep" }, interactive, { operation: { name: "requeue", reason: "asleep" }, timings: false, reply: none }],
    ["a first reset keeps its place", { kind: "reset", message: "reset", drops: 1 }, asyncJob(), { operation: { name: "requeue", reason: "reset", drops: 1, toBack: false }, timings: false, reply: none }],
    ["a second reset goes to the back", { kind: "reset", message: "reset", drops: 2 }, interactive, { operation: { name: "requeue", reason: "reset", drops: 2, toBack: true }, timings: false, reply: none }],
    ["canceled: 499 to the caller", { kind: "canceled", message: "canceled by request" }, interactive, { operation: { name: "cancel", reason: "canceled by request" }, timings: false, reply: { kind: "fail", status: 499, message: "canceled by request" } }],
    ["over the run cap fails at once, not retried", { kind: "over run cap", message: "cap" }, asyncJob(), { operation: { name: "fail", error: { status: 504, message: "cap" }, failure: false }, timings: false, reply: { kind: "fail", status: 504, message: "cap" } }],
    ["shutting down: an async job goes back to the queue", { kind: "shutting down", message: "bye" }, asyncJob(), { operation: { name: "requeue", reason: "bye" }, timings: false, reply: none }],
    ["shutting down: a passthrough request is canceled with a 503", { kind: "shutting down", message: "bye" }, interactive, { operation: { name: "cancel", reason: "bye" }, timings: false, reply: { kind: "fail", status: 503, message: "bye" } }],
    ["the caller left before the first byte", { kind: "caller left" }, interactive, { operation: { name: "cancel", reason: "the caller went away" }, timings: false, reply: { kind: "fail", status: 499, message: "the caller went away" } }],
    ["preempted: queued again, not a failure", { kind: "preempted", by: "p1", at: 5, discardedMs: 40 }, asyncJob(), { operation: { name: "preempt", by: "p1", discardedMs: 40 }, timings: false, reply: none }],
    ["a timeout of a passthrough request: 504", { kind: "timeout", message: "silent" }, interactive, { operation: { name: "fail", error: { status: 504, message: "silent" }, failure: false }, timings: false, reply: { kind: "fail", status: 504, message: "silent" } }],
    ["a timeout of an async job: retried", { kind: "timeout", message: "silent" }, asyncJob(), { operation: { name: "retryLater", error: { status: 504, message: "silent" }, delayMs: 100 }, timings: false, reply: none }],
    ["a dropped stream of an async job: retried as a 502", { kind: "dropped", message: "cut" }, asyncJob(1), { operation: { name: "retryLater", error: { status: 502, message: "cut" }, delayMs: 200 }, timings: false, reply: none }],
    ["foreman's own error, passthrough: 502", { kind: "unexpected", message: "bug" }, interactive, { operation: { name: "fail", error: { status: 502, message: "bug" }, failure: false }, timings: false, reply: { kind: "fail", status: 502, message: "bug" } }],
    ["foreman's own error on the last attempt of an async job: gives up", { kind: "unexpected", message: "bug" }, asyncJob(2), { operation: { name: "fail", failure: true, error: { status: 502, message: "bug (gave up after 3 attempts)" } }, timings: false, reply: none }],
  ];
  for (const [what, attempt, job, expected] of table) test(what, () => expect(endOf(attempt, job, retry)).toEqual(expected));

  test("a reset past the re-sends fails the job, counted, and cuts the caller", () => {
    const end = endOf({ kind: "reset", message: "reset", drops: MAX_RESENDS + 1 }, interactive, retry);
    expect(end.operation).toMatchObject({ name: "fail", failure: true, error: { status: 502 } });
    expect(end.reply).toEqual({ kind: "cut" });
  });

  test("only an ending with the target's reply writes the attempt's timings", () => {
    const replied = new Set(["done", "gone", "target error"]);
    const attempts: Attempt[] = [done, { kind: "gone" }, { kind: "target error", status: 400, message: "x" }, { kind: "unreachable", message: "x" }, { kind: "timeout", message: "x" }, { kind: "canceled", message: "x" }];
    for (const a of attempts) expect(endOf(a, interactive, retry).timings).toBe(replied.has(a.kind));
  });
});
