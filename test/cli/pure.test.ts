import { describe, expect, test } from "bun:test";
import { ForemanConnectionError, ForemanHttpError, JobFailedError, JobTimeoutError } from "../../clients/ts/errors.ts";
import type { Job } from "foreman/client";
import { describeError, EXIT, UsageError } from "../../src/cli/exit-codes.ts";
import { artifactText, jobDetails, jobRows, noJobs, stateLine, table } from "../../src/cli/format.ts";
import { initialInput, splitInput } from "../../src/cli/line-reader.ts";
import { goDuration, initialWrap, thinkingFrame, verboseSummary, wrapText } from "../../src/cli/answer-text.ts";
import { chatOptions, missingModel } from "../../src/cli/run.ts";
import { clock, stoppedMessage, waitingLine } from "../../src/cli/answer.ts";
import { applyPullLine, initialPull, percent, plainLine, renderBar, speed, type PullLine } from "../../src/cli/pull-progress.ts";
import { buildSubmission } from "../../src/cli/submission.ts";
import { batchMetadata } from "../../src/cli/batches.ts";

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

  test("--run-after, --start-by and --max-run pass through as given (the server reads them)", () => {
    expect(buildSubmission({ model: "m", "run-after": "2h", "start-by": "9h", "max-run": "10m" }, noFiles)).toMatchObject({ run_after: "2h", start_by: "9h", max_run: "10m" });
    expect(buildSubmission({ model: "m" }, noFiles)).toEqual({ endpoint: "/api/chat", request: { model: "m" } });
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
        "ID  STATUS  MODEL  ENDPOINT   PRIORITY  POSITION  DUE  DONE IN  AGE",
        "j1  done    m      /api/chat  0         -         -    -        1m30s",
        "j2  queued  m      /api/chat  0         3         -    2m5s     5s",
        "j3  queued  m      /api/chat  0         4         -    ?        5s",
        "",
      ].join("\n"),
    );
  });

  test("jobRows shows when a scheduled or backing-off job is due", () => {
    const now = Date.parse("2026-11-26T12:00:00Z");
    const base = { status: "queued", model: "m", endpoint: "/api/chat", priority: 0, created_at: "2026-11-26T11:59:00Z", queue_position: 0, retry_at: null, run_after: null, eta: null, eta_reason: null } as unknown as Job;
    const rows = jobRows([{ ...base, id: "s", run_after: "2026-11-26T14:00:00Z" }, { ...base, id: "r", retry_at: "2026-11-26T12:00:30Z", run_after: "2026-11-26T11:00:00Z" }, { ...base, id: "n", run_after: "2026-11-26T11:00:00Z" }], now);
    expect(rows.split("\n").map((l) => l.split(/\s{2,}/)[6])).toEqual(["DUE", "in 2h0m", "in 30s", "-", undefined]);
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
    expect(stateLine("canceled", { ...job, reason: "expired" }, now)).toBe("canceled expired: not started by its start_by\n");
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
    // narrow: the step goes first, then the time left, then the bar — the speed stays
    expect(renderBar(pulling, { columns: 60, nameWidth: 1 })).toMatch(/^m  50% ▕█+ +▏   1 GB\/  2 GB  100 MB\/s     10s$/);
    expect(renderBar(pulling, { columns: 50, nameWidth: 1 })).toMatch(/^m  50% ▕█+ +▏   1 GB\/  2 GB  100 MB\/s$/);
    expect(renderBar({ ...pulling, model: "llama3.2" }, { columns: 40, nameWidth: 8 })).toBe("llama3.2  50%   1 GB/  2 GB  100 MB/s");
    expect(renderBar({ ...pulling, model: "llama3.2" }, { columns: 30, nameWidth: 8 })).toBe("llama3.2  50%   1 GB/  2 GB");
  });

  test("at 80 columns the steps after the download stay in view: verifying, writing manifest", () => {
    const downloaded = fold([...steps.slice(0, 4), { status: "verifying sha256 digest" }]).at(-1)!;
    const writing = applyPullLine(downloaded, { status: "writing manifest" }, 10_000);
    for (const [state, step] of [[downloaded, "verifying sha256 digest"], [writing, "writing manifest"]] as const) {
      const line = renderBar({ ...state, model: "llama3.2" }, { columns: 80, nameWidth: 8 });
      expect(line).toMatch(new RegExp(`^llama3\\.2 100% ▕█+▏   1 KB {9}${step}$`));
      expect(line.length).toBeLessThan(80);
    }
  });

  test("a model's percentage never goes down when a new layer starts", () => {
    const layers = fold([
      { status: "pulling aaa", digest: "sha256:aaa", total: 1000, completed: 900 },
      { status: "pulling bbb", digest: "sha256:bbb", total: 9000, completed: 0 },
      { status: "pulling bbb", digest: "sha256:bbb", total: 9000, completed: 4000 },
      { status: "pulling bbb", digest: "sha256:bbb", total: 9000, completed: 9000 },
    ]);
    expect(layers.map(percent)).toEqual([null, 90, 90, 90, 99]);
    const shown = layers.slice(1).map((state) => Number(/(\d+)%/.exec(renderBar(state, layout))![1]));
    expect(shown).toEqual([...shown].sort((a, b) => a - b));
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

describe("the chat's keystrokes (line-reader.ts)", () => {
  const split = (chunks: string[]) => {
    let state = initialInput;
    let text = "";
    const pasted: boolean[] = [];
    for (const chunk of chunks) {
      const r = splitInput(state, chunk);
      state = r.state;
      text += r.text;
      pasted.push(...r.pasted);
    }
    return { text, pasted, state };
  };

  test("every line end is one \\r for readline; a \\r\\n is one end, even cut between chunks", () => {
    expect(split(["a\rb\nc\r\nd"])).toMatchObject({ text: "a\rb\rc\rd", pasted: [false, false, false] });
    expect(split(["a\r", "\nb\r"])).toMatchObject({ text: "a\rb\r", pasted: [false, false] });
  });

  test("the line ends inside a bracketed paste are marked pasted; the markers go, even cut between chunks", () => {
    expect(split(["\x1b[200~one\ntwo\x1b[201~\r"])).toMatchObject({ text: "one\rtwo\r", pasted: [true, false] });
    expect(split(["\x1b[20", "0~one\r\ntwo\r", "\nthree\x1b[2", "01~\r"])).toMatchObject({ text: "one\rtwo\rthree\r", pasted: [true, true, false], state: { pasting: false } });
  });
});

describe("an answer as ollama run writes it (answer-text.ts)", () => {
  test("Go's duration notation", () => {
    expect([0, 999, 1_500, 45_200_000, 1_234_567_891, 123_500_000_000, 3_723_000_000_000].map(goDuration)).toEqual(["0s", "999ns", "1.5µs", "45.2ms", "1.234567891s", "2m3.5s", "1h2m3s"]);
  });

  test("--verbose's lines, as Ollama's Metrics.Summary prints them", () => {
    expect(verboseSummary({ total_duration: 2_000_000_000, load_duration: 5_000_000, prompt_eval_count: 12, prompt_eval_duration: 40_000_000, eval_count: 30, eval_duration: 1_500_000_000 })).toBe(
      [
        "total duration:       2s",
        "load duration:        5ms",
        "prompt eval count:    12 token(s)",
        "prompt eval duration: 40ms",
        "prompt eval rate:     300.00 tokens/s",
        "eval count:           30 token(s)",
        "eval duration:        1.5s",
        "eval rate:            20.00 tokens/s",
        "",
      ].join("\n"),
    );
    expect(verboseSummary({})).toBe("");
  });

  test("words wrap before the edge (five columns free), across pieces, never cut unless longer than a line", () => {
    const stream = (pieces: string[], width: number) => {
      let state = initialWrap;
      let out = "";
      for (const piece of pieces) {
        const r = wrapText(state, piece, width);
        state = r.state;
        out += r.out;
      }
      return out + wrapText(state, "", width, true).out;
    };
    const text = "the quick brown fox jumps over the lazy dog and keeps running far away";
    const wrapped = stream(text.match(/.{1,7}/g)!, 25);
    for (const line of wrapped.split("\n")) expect(line.length).toBeLessThanOrEqual(20);
    expect(wrapped.replace(/ ?\n/g, " ")).toBe(text);
    expect(stream(["line one\nline two"], 80)).toBe("line one\nline two");
    const long = stream(["x".repeat(50)], 25);
    expect(long.replaceAll("\n", "")).toBe("x".repeat(50));
  });

  test("the thinking frame: Ollama's words, grey on a terminal", () => {
    expect(thinkingFrame(false)).toEqual({ open: "Thinking...\n", close: "...done thinking.\n\n" });
    expect(thinkingFrame(true).open).toContain("Thinking...\n");
    expect(thinkingFrame(true).close).toEndWith("\x1b[0m");
  });
});

describe("foreman run's flags and messages", () => {
  const tty = { stdin: true, stdout: true };
  const pipe = { stdin: false, stdout: false };
  test("the flags Ollama's run takes become the request's fields", () => {
    expect(chatOptions({ format: "json", think: true, keepalive: "5m" }, tty).request).toEqual({ format: "json", think: true, keep_alive: "5m" });
    expect(chatOptions({ format: '{"type":"object"}', think: "high" }, tty).request).toEqual({ format: { type: "object" }, think: "high" });
    expect(chatOptions({ think: "false" }, tty).request).toEqual({ think: false });
    expect(chatOptions({ keepalive: "-1" }, tty).request).toEqual({ keep_alive: -1 });
    expect(chatOptions({ keepalive: "1h30m" }, tty).request).toEqual({ keep_alive: "1h30m" });
    expect(chatOptions({}, tty).request).toEqual({});
    for (const bad of [{ format: "yaml" }, { format: "[1]" }, { think: "loud" }, { keepalive: "soon" }]) expect(() => chatOptions(bad, tty)).toThrow(UsageError);
  });

  test("what is shown: thinking on a terminal (or asked for), wrap on a terminal, timings with --verbose", () => {
    expect(chatOptions({}, tty).answer).toEqual({ print: true, thinking: true, wrap: true, verbose: false });
    expect(chatOptions({}, pipe).answer).toEqual({ print: true, thinking: false, wrap: false, verbose: false });
    expect(chatOptions({ think: true }, pipe).answer.thinking).toBe(true);
    expect(chatOptions({ think: "false" }, pipe).answer.thinking).toBe(false);
    expect(chatOptions({ hidethinking: true, think: true }, tty).answer.thinking).toBe(false);
    expect(chatOptions({ nowordwrap: true, verbose: true }, tty).answer).toMatchObject({ wrap: false, verbose: true });
    expect(chatOptions({ json: true }, tty).answer).toMatchObject({ print: false, wrap: false });
  });

  test("a missing model is named once, as typed, with the closest installed name", () => {
    expect(missingModel("lama3.2", ["llama3.2:latest", "mistral:latest"])).toBe('model "lama3.2" not found; did you mean "llama3.2"? (to get it: foreman pull lama3.2, or run with --pull)');
    expect(missingModel("phi3", ["llama3.2:latest"])).toBe('model "phi3" not found (to get it: foreman pull phi3, or run with --pull)');
  });

  test("the waiting line while the target is down, and what a Ctrl-C did", () => {
    const since = Date.parse("2026-12-01T10:00:00Z");
    const line = waitingLine({ up: false, since: new Date(since).toISOString(), url: "http://mac.lan:11434" }, since + 95_000);
    expect(line).toBe(`waiting for the target (http://mac.lan:11434): down since ${clock(since)} (1m35s); the request waits in foreman's queue until it answers — Ctrl-C gives up`);
    expect(waitingLine({ up: true, since: new Date(since).toISOString(), url: "x" }, since)).toBeNull();
    expect(stoppedMessage(true, null)).toBe("stopped: the answer was canceled at the target");
    expect(stoppedMessage(false, new Date(since).toISOString())).toBe(`stopped: the request left foreman's queue; it never reached the target (down since ${clock(since)})`);
    expect(stoppedMessage(false, null)).not.toContain("at the target");
  });
});

describe("batch submit's metadata flags", () => {
  test("--webhook and --line-webhooks are the keys foreman reads; neither is no metadata", () => {
    expect(batchMetadata({})).toBeUndefined();
    expect(batchMetadata({ webhook: "http://10.0.0.5/h" })).toEqual({ webhook_url: "http://10.0.0.5/h" });
    expect(batchMetadata({ webhook: "http://10.0.0.5/h", "line-webhooks": "job.done" })).toEqual({ webhook_url: "http://10.0.0.5/h", line_webhooks: "job.done" });
    expect(batchMetadata({ "line-webhooks": "true" })).toEqual({ line_webhooks: "true" });
  });
});
