import { describe, expect, test } from "bun:test";
import { splitSse, splitSseEvents } from "../../src/contract/lines.ts";
import { toJobEvent } from "../../clients/ts/events.ts";
import { backoffMs, isTransient } from "../../clients/ts/retry.ts";
import { jobEndError, waitSeconds } from "../../clients/ts/run.ts";
import { ForemanConnectionError, ForemanHttpError, JobCanceledError, JobFailedError } from "../../clients/ts/errors.ts";
import type { Job } from "foreman/client";

describe("splitSseEvents", () => {
  test("reads id, event, data and retry; keeps a partial event in rest", () => {
    const { items, rest } = splitSseEvents('id: 3\nevent: job.queued\ndata: {"a":1}\n\n: comment\n\nretry: 500\ndata: x\ndata: y\n\nid: 4\nevent: job.wo');
    expect(items).toEqual([{ id: "3", event: "job.queued", data: '{"a":1}' }, { retry: 500, data: "x\ny" }]);
    expect(rest).toBe("id: 4\nevent: job.wo");
  });

  test("CRLF line endings, a field without a colon, a value without the space", () => {
    const { items } = splitSseEvents("id:7\r\nevent:job.done\r\ndata\r\n\r\n");
    expect(items).toEqual([{ id: "7", event: "job.done", data: "" }]);
  });

  test("splitSse still yields only the data of events that have some", () => {
    expect(splitSse("event: ping\n\ndata: a\n\ndata: b\n").items).toEqual(["a"]);
  });
});

describe("client pure helpers", () => {
  test("toJobEvent keeps job.* events with data and parses it", () => {
    expect(toJobEvent({ id: "1", event: "job.progress", data: '{"text":"hi","chunks":1,"tokens":1,"offset":0}' })).toEqual({ id: "1", event: "job.progress", data: { text: "hi", chunks: 1, tokens: 1, offset: 0 } });
    expect(toJobEvent({ event: "ping", data: "{}" })).toBeNull();
    expect(toJobEvent({ event: "job.done" })).toBeNull();
  });

  test("waitSeconds covers the time left, at least 1 s and at most 300 s", () => {
    expect(waitSeconds(1)).toBe(1);
    expect(waitSeconds(2500)).toBe(3);
    expect(waitSeconds(Infinity)).toBe(300);
  });

  test("backoff doubles from 200 ms up to 5 s", () => {
    expect([0, 1, 2, 3, 4, 5, 50].map(backoffMs)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
  });

  test("transient errors: connection failures, 429 and a proxy's 502/503/504", () => {
    expect(isTransient(new ForemanConnectionError("x"))).toBe(true);
    expect([429, 502, 503, 504, 400, 404, 409, 422, 500].map((s) => isTransient(new ForemanHttpError(s, "x")))).toEqual([true, true, true, true, false, false, false, false, false]);
    expect(isTransient(new Error("x"))).toBe(false);
  });

  test("jobEndError maps failed and canceled jobs", () => {
    const job = { id: "j1", status: "failed", error: { status: 404, message: "model 'x' not found" } } as Job;
    expect(jobEndError(job)).toBeInstanceOf(JobFailedError);
    expect(jobEndError(job).message).toBe("job j1 failed (404): model 'x' not found");
    expect(jobEndError({ ...job, status: "canceled" })).toBeInstanceOf(JobCanceledError);
  });
});
