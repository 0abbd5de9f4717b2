import { describe, expect, test } from "bun:test";
import { ForemanConnectionError, ForemanHttpError, JobFailedError, JobTimeoutError } from "../../clients/ts/errors.ts";
import type { Job } from "foreman/client";
import { describeError, EXIT, UsageError } from "../../src/cli/exit-codes.ts";
import { artifactText, jobDetails, jobRows, noJobs, stateLine, table } from "../../src/cli/format.ts";
import { applyPullLine, initialPull, percent, plainLine, renderBar, speed, type PullLine } from "../../src/cli/pull-progress.ts";
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

  test("--no-preempt submits the job with preemptible false; without it the server's default holds", () => {
    expect(buildSubmission({ model: "m", "no-preempt": true }, noFiles).preemptible).toBe(false);
    expect(buildSubmission({ model: "m" }, noFiles)).not.toHaveProperty("preemptible");
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

  test("jobRows has a header and one row per job, with its age, queue position and estimate", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    const done = { id: "j1", status: "done", model: "m", endpoint: "/api/chat", priority: 0, created_at: "2026-11-26T11:58:30Z", queue_position: null, eta: null, eta_reason: null } as unknown as Job;
    const queued = { ...done, id: "j2", status: "queued", created_at: "2026-11-26T11:59:55Z", queue_position: 3, eta: { start_at: "2026-11-26T12:01:00Z", finish_at: "2026-11-26T12:02:05Z" } } as Job;
    const unknown = { ...queued, id: "j3", queue_position: 4, eta: null, eta_reason: "no_history" } as Job;
    expect(jobRows([done, queued, unknown], now)).toBe(
      [
        "ID  STATUS  MODEL  ENDPOINT   PRIORITY  POSITION  DONE IN  AGE",
        "j1  done    m      /api/chat  0         -         -        1m30s",
        "j2  queued  m      /api/chat  0         3         2m5s     5s",
        "j3  queued  m      /api/chat  0         4         ?        5s",
        "",
      ].join("\n"),
    );
  });

  test("jobs get shows when a queued job should start and finish, or why it cannot say", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    const job = { id: "j", status: "queued", model: "m", endpoint: "/api/chat", priority: 0, created_at: "2026-11-26T11:59:00Z", started_at: null, finished_at: null, attempts: 0, preemptions: 0, preemptible: true, progress: { chunks: 0, tokens: 0 }, queue_position: 2, error: null, timings: null, metadata: null } as unknown as Job;
    const timed = jobDetails({ ...job, eta: { start_at: "2026-11-26T12:00:30.000Z", finish_at: "2026-11-26T12:01:10.000Z" }, eta_reason: null }, now);
    expect(timed).toContain("eta             starts in 30s, done in 1m10s (2026-11-26T12:00:30.000Z to 2026-11-26T12:01:10.000Z)\n");
    expect(jobDetails({ ...job, eta: null, eta_reason: "behind_unknown" }, now)).toContain("eta             no estimate: work ahead of it has none\n");
    expect(jobDetails({ ...job, status: "done", queue_position: null, eta: null, eta_reason: null }, now)).not.toContain("eta");
  });

  test("passthrough requests show the request id instead of a priority", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    const waiting = { id: "p1", status: "queued", lane: "interactive", model: "m", endpoint: "/v1/chat/completions", priority: 0, created_at: "2026-11-26T11:59:58Z", queue_position: 0, request_id: "req-7" } as unknown as Job;
    expect(jobRows([waiting], now, "interactive")).toBe(["ID  STATUS  MODEL  ENDPOINT              POSITION  DONE IN  REQUEST  AGE", "p1  queued  m      /v1/chat/completions  0         -        req-7    2s", ""].join("\n"));
    expect(noJobs({ lane: "interactive", status: "queued" })).toBe("no passthrough requests with status queued\n");
  });

  test("an empty list says so, naming the filter", () => {
    expect(noJobs({})).toBe("no jobs\n");
    expect(noJobs({ status: "queued", model: "llama3.2" })).toBe("no jobs with status queued and model llama3.2\n");
    expect(noJobs({ cursor: "c" })).toBe("no more jobs\n");
  });

  test("a state line per event of jobs watch", () => {
    const job = { id: "j", status: "queued", model: "llama3.2", queue_position: 2, progress: { chunks: 9, tokens: 8 }, timings: { queue_ms: 1200, total_ms: 65_000 }, error: null } as unknown as Job;
    const now = Date.parse("2026-11-26T12:00:00Z");
    expect(stateLine("queued", job, now)).toBe("queued   2 ahead\n");
    expect(stateLine("queued", { ...job, eta: { start_at: "2026-11-26T12:00:05Z", finish_at: "2026-11-26T12:01:00Z" } }, now)).toBe("queued   2 ahead, starts in 5s, done in 1m0s\n");
    expect(stateLine("queued", { ...job, eta: null, eta_reason: "beyond_horizon" }, now)).toBe("queued   2 ahead, no estimate: too far back in the queue\n");
    expect(stateLine("queued", { ...job, reason: "preempted", queue_position: 0 }, now)).toBe("queued   preempted: runs again from the start, 0 ahead\n");
    expect(stateLine("loading", job, now)).toBe("loading  llama3.2\n");
    expect(stateLine("done", job, now)).toBe("done     8 tokens in 1m5s after 1s in the queue\n");
    expect(stateLine("done", { ...job, timings: { queue_ms: 10, total_ms: 900 } }, now)).toBe("done     8 tokens in 1s\n");
    expect(stateLine("failed", { ...job, error: { status: 404, message: "model not found" } }, now)).toBe("failed   (404) model not found\n");
    expect(stateLine("canceled", job, now)).toBe("canceled\n");
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
  const fold = (lines: PullLine[], every = 1000) => lines.reduce((acc, line, i) => [...acc, applyPullLine(acc.at(-1)!, line, i * every)], [initialPull("m")]);

  test("folds the stream into a percentage over every layer", () => {
    expect(fold(steps).map(percent)).toEqual([null, null, 0, 50, 100, 100]);
  });

  test("the speed is measured between samples a second or more apart, over whole seconds", () => {
    const states = fold([{ status: "pulling aaa", digest: "d", total: 10_000_000, completed: 0 }, { status: "pulling aaa", digest: "d", total: 10_000_000, completed: 3_000_000 }, { status: "pulling aaa", digest: "d", total: 10_000_000, completed: 6_000_000 }], 1500);
    expect(speed(states[1]!)).toBe(0);
    expect(speed(states[3]!)).toBe(2_000_000); // 6 MB over 3 s
    // samples closer than a second apart are not taken
    expect(fold([{ digest: "d", total: 10, completed: 1 }, { digest: "d", total: 10, completed: 2 }], 10).at(-1)!.samples).toHaveLength(1);
  });

  const layout = { columns: 100, nameWidth: 10 };
  const pulling = fold([{ status: "pulling dde5aa3fc5ff", digest: "d", total: 2_000_000_000, completed: 0 }, { status: "pulling dde5aa3fc5ff", digest: "d", total: 2_000_000_000, completed: 1_000_000_000 }], 10_000).at(-1)!;

  test("a bar as Ollama draws it: percent, bar, size, speed, time left, then the step", () => {
    const line = renderBar({ ...pulling, model: "llama3.2" }, layout);
    expect(line).toBe(`llama3.2    50% ▕${"█".repeat(12)}${" ".repeat(12)}▏   1 GB/  2 GB  100 MB/s     10s  pulling dde5aa3fc5ff`);
    expect(line.length).toBeLessThanOrEqual(99); // the step is padded to its column, then trimmed
  });

  test("bars of models with different names line up, and fit every width without wrapping", () => {
    const a = renderBar({ ...pulling, model: "phi3" }, layout);
    const b = renderBar({ ...pulling, model: "nomic-embed-text"  }, { ...layout, nameWidth: 16 });
    expect(a.indexOf("▕")).toBe(renderBar({ ...pulling, model: "llama3.2" }, layout).indexOf("▕"));
    expect(b.indexOf("▏")).toBe(a.indexOf("▏"));
    for (let columns = 10; columns <= 200; columns++) {
      for (const state of [pulling, fold(steps).at(-1)!, fold(steps)[1]!, { ...pulling, error: "x" }]) {
        expect(renderBar({ ...state, model: "nomic-embed-text" }, { columns, nameWidth: 16 }).length).toBeLessThan(columns);
      }
    }
    // narrow: the step goes first, then speed and time; the bar stays
    expect(renderBar(pulling, { columns: 60, nameWidth: 1 })).toMatch(/^m  50% ▕█+ +▏   1 GB\/  2 GB  100 MB\/s     10s$/);
    expect(renderBar(pulling, { columns: 40, nameWidth: 1 })).toMatch(/^m  50% ▕█+ +▏   1 GB\/  2 GB$/);
  });

  test("done: the total alone, no speed; before any size: the step; a failure says failed, not the message", () => {
    expect(renderBar(fold(steps).at(-1)!, layout)).toMatch(/^m {10}100% ▕█+▏   1 KB {27}success$/);
    expect(renderBar(fold(steps)[1]!, layout)).toBe("m           pulling manifest");
    expect(renderBar({ ...pulling, error: "disk full" }, layout)).toEndWith("  failed");
    expect(renderBar({ ...pulling, error: "disk full" }, layout)).not.toContain("disk full");
  });

  test("plain lines on a new step or a new quarter, nothing in between, nothing for an error", () => {
    const a = applyPullLine(initialPull("m"), { status: "pulling aaa", digest: "d", total: 100, completed: 10 }, 0);
    expect(plainLine(a, applyPullLine(a, { status: "pulling aaa", digest: "d", total: 100, completed: 20 }, 1))).toBeNull();
    expect(plainLine(a, applyPullLine(a, { status: "pulling aaa", digest: "d", total: 100, completed: 30 }, 1))).toBe("m: pulling aaa (30%)");
    expect(plainLine(a, applyPullLine(a, { status: "verifying sha256 digest" }, 1))).toBe("m: verifying sha256 digest (10%)");
    expect(plainLine(a, applyPullLine(a, { error: "nope" }, 1))).toBeNull();
  });
});
