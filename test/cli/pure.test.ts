import { describe, expect, test } from "bun:test";
import { ForemanConnectionError, ForemanHttpError, JobFailedError, JobTimeoutError } from "../../clients/ts/errors.ts";
import type { Job } from "foreman/client";
import { describeError, EXIT, UsageError } from "../../src/cli/exit-codes.ts";
import { artifactText, jobRows, table } from "../../src/cli/format.ts";
import { applyPullLine, humanBytes, initialPull, percent, plainLine, renderBar } from "../../src/cli/pull-progress.ts";
import { buildSubmission } from "../../src/cli/submission.ts";

const noFiles = (path: string): string => {
  throw new Error(`no file ${path}`);
};

describe("buildSubmission", () => {
  test("chat: --prompt and --message become user messages after the request's own", () => {
    const sub = buildSubmission({ request: '{"model":"m","messages":[{"role":"system","content":"be brief"}]}', prompt: "a", message: ["b"] }, noFiles);
    expect(sub).toEqual({ endpoint: "/api/chat", request: { model: "m", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "a" }, { role: "user", content: "b" }] } });
  });

  test.each([
    ["/api/generate", "prompt"],
    ["/v1/completions", "prompt"],
    ["/api/embed", "input"],
    ["/v1/embeddings", "input"],
    ["/api/embeddings", "prompt"],
    ["/v1/responses", "input"],
  ])("%s takes --prompt as %s", (endpoint, field) => {
    expect(buildSubmission({ endpoint, model: "m", prompt: "x" }, noFiles).request).toEqual({ model: "m", [field]: "x" });
  });

  test("--model overrides the request's model; @file is read; webhook, priority, metadata pass through", () => {
    const sub = buildSubmission({ request: "@req.json", model: "other", webhook: "http://hook", priority: "-3", metadata: '{"k":1}' }, () => '{"model":"m","stream":false}');
    expect(sub).toEqual({ endpoint: "/api/chat", request: { model: "other", stream: false }, webhook: "http://hook", priority: -3, metadata: { k: 1 } });
  });

  test.each([
    [{ prompt: "x" }, "a model is required"],
    [{ model: "m", endpoint: "/api/pull" }, "--endpoint"],
    [{ model: "m", priority: "high" }, "--priority"],
    [{ request: "[1]" }, "expected a JSON object"],
    [{ request: "@missing.json" }, "cannot read missing.json"],
    [{ model: "m", endpoint: "/api/generate", message: ["x"] }, "--message is for chat endpoints"],
  ])("%j is a usage error", (flags, message) => {
    expect(() => buildSubmission(flags, noFiles)).toThrow(message);
    expect(() => buildSubmission(flags, noFiles)).toThrow(UsageError);
  });
});

describe("exit codes", () => {
  const job = { id: "j", status: "failed", error: null } as unknown as Job;
  test.each([
    ["UsageError", EXIT.usage, new UsageError("x")],
    ["JobFailedError", EXIT.jobEnded, new JobFailedError(job)],
    ["JobTimeoutError", EXIT.timeout, new JobTimeoutError({ ...job, status: "queued" }, 5)],
    ["ForemanHttpError", EXIT.http, new ForemanHttpError(409, "x")],
    ["ForemanConnectionError", EXIT.http, new ForemanConnectionError("x")],
  ])("%s → exit %d", (_name, code, err) => {
    expect(describeError(err).code).toBe(code);
  });

  test("HTTP errors name the status and the field", () => {
    expect(describeError(new ForemanHttpError(400, "/request/model: required", "/request/model")).message).toBe("HTTP 400: /request/model: required (/request/model)");
  });
});

describe("format", () => {
  test("table pads every column but the last", () => {
    expect(table([["a", "bb", "c"], ["ccc", "d", "e"]])).toBe("a    bb  c\nccc  d   e\n");
  });

  test("jobRows has a header and one row per job", () => {
    const job = { id: "j1", status: "done", model: "m", endpoint: "/api/chat", priority: 0, created_at: "t0", finished_at: null } as unknown as Job;
    expect(jobRows([job]).split("\n")[1]).toBe("j1  done    m      /api/chat  0         t0       -");
  });

  test("artifactText finds the reply's text in each dialect, JSON otherwise", () => {
    expect(artifactText({ message: { content: "chat" } })).toBe("chat\n");
    expect(artifactText({ response: "gen" })).toBe("gen\n");
    expect(artifactText({ choices: [{ message: { content: "oa" } }] })).toBe("oa\n");
    expect(artifactText({ choices: [{ text: "cmp" }] })).toBe("cmp\n");
    expect(artifactText({ embeddings: [[1]] })).toBe('{\n  "embeddings": [\n    [\n      1\n    ]\n  ]\n}\n');
  });
});

describe("pull progress", () => {
  const steps = [
    { status: "pulling manifest" },
    { status: "pulling aaa", digest: "sha256:aaa", total: 1000 },
    { status: "pulling aaa", digest: "sha256:aaa", total: 1000, completed: 500 },
    { status: "pulling aaa", digest: "sha256:aaa", total: 1000, completed: 1000 },
    { status: "success" },
  ];

  test("folds the stream into a percentage over every layer", () => {
    const states = steps.reduce((acc, line) => [...acc, applyPullLine(acc.at(-1)!, line)], [initialPull("m")]);
    expect(states.map(percent)).toEqual([null, null, 0, 50, 100, 100]);
  });

  test("the bar shows the model, the bar, percent, bytes and status", () => {
    const state = applyPullLine(initialPull("llama3.2"), { status: "pulling aaa", digest: "d", total: 2_000_000_000, completed: 500_000_000 });
    expect(renderBar(state, 8)).toBe("llama3.2  [##......]  25%  500.0 MB/2.0 GB  pulling aaa");
    expect(renderBar(applyPullLine(state, { error: "boom" }), 8)).toContain("error: boom");
  });

  test("plain lines on a status change or a new quarter, nothing in between", () => {
    const a = applyPullLine(initialPull("m"), { status: "pulling aaa", digest: "d", total: 100, completed: 10 });
    expect(plainLine(a, applyPullLine(a, { status: "pulling aaa", digest: "d", total: 100, completed: 20 }))).toBeNull();
    expect(plainLine(a, applyPullLine(a, { status: "pulling aaa", digest: "d", total: 100, completed: 30 }))).toBe("m: pulling aaa (30%)");
    expect(plainLine(a, applyPullLine(a, { error: "nope" }))).toBe("m: error: nope (10%)");
  });

  test("humanBytes uses decimal units", () => {
    expect([0, 999, 1000, 4_920_753_328].map(humanBytes)).toEqual(["0 B", "999 B", "1.0 KB", "4.9 GB"]);
  });
});
