// `foreman status`: the fields GET /status gained for it (the worker's since and state,
// the oldest wait per model, recent swaps), the one-screen rendering, --json, and --watch on a
// real terminal: redrawn in place, never scrolling, Ctrl-C exits 0.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ForemanClient } from "../../clients/ts/index.ts";
import type { Status } from "../../clients/ts/types.ts";
import { statusScreen } from "../../src/cli/status-screen.ts";
import { BUN, MAIN, startStack, waitFor, type Stack, runCli } from "../harness.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

let stack: Stack;
let client: ForemanClient;

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 5, loadMs: 20, maxLoaded: 1 }, foreman: { pollIntervalMs: 200 } });
  client = new ForemanClient({ baseUrl: stack.url });
});

afterAll(async () => {
  await stack.stop();
});

const getStatus = async () => (await (await fetch(`${stack.url}/status`)).json()) as Status;

const foreman = (args: string[]) => runCli(stack.url, args);

describe("GET /status, for the status screen", () => {
  test("the worker's state (its job's: loading) and since, the oldest wait per model, the recent swaps", async () => {
    await client.run({ request: { model: "llama3.2", prompt: "a" }, endpoint: "/api/generate" });
    await stack.sim.setFaults({ firstByteDelayMs: 2000 });
    const slow = await client.submit({ request: { model: "mistral", prompt: "slow" }, endpoint: "/api/generate" });
    const waiting = await client.submit({ request: { model: "phi3", prompt: "waits" }, endpoint: "/api/generate" });
    try {
      const status = await waitFor(async () => {
        const s = await getStatus();
        return s.worker.job === slow.id ? s : null;
      }, { what: "the worker to run the mistral job" });
      expect(status.worker.model).toBe("mistral");
      expect(status.worker.state).toBe("loading");
      expect(Date.now() - Date.parse(status.worker.since!)).toBeGreaterThanOrEqual(0);
      expect(Object.keys(status.queue.oldest_queued_age_seconds_by_model)).toEqual(["phi3:latest"]);
      expect(status.queue.oldest_queued_age_seconds_by_model["phi3:latest"]).toBeGreaterThanOrEqual(0);
      // a load is counted once the target's reply shows it happened (a model it lacks loads nothing)
      expect(status.recent_swaps.map((s) => s.to)).not.toContain("mistral:latest");
    } finally {
      await stack.sim.setFaults({ firstByteDelayMs: 0 });
      await client.wait(slow.id);
      await client.wait(waiting.id);
    }
    const after = await getStatus();
    // the simulator has no phi3 installed: its 404 loaded nothing, so it is no swap
    expect(after.recent_swaps.slice(0, 2).map((s) => `${s.from} → ${s.to}`)).toEqual(["llama3.2:latest → mistral:latest"]);
    expect(Number.isNaN(Date.parse(after.recent_swaps[0]!.at))).toBe(false);
    expect(after.queue.oldest_queued_age_seconds_by_model).toEqual({});
  });
});

describe("the status screen", () => {
  const now = Date.parse("2026-11-26T12:00:00Z");
  const base: Status = {
    version: "0.1.0",
    database: "/home/me/.local/share/foreman/foreman.db",
    uptime_seconds: 7980,
    target: { url: "http://mac.lan:11434", up: true, since: "2026-11-26T10:00:00Z", reason: "liveness probe answered", resident: ["llama3.2:latest"] },
    worker: { state: "working", job: "01J", model: "llama3.2", since: "2026-11-26T11:59:48Z" },
    queue: {
      by_state: { queued: 3, loading: 0, working: 1 },
      by_model: { "llama3.2:latest": { queued: 1, working: 1 }, "qwen2.5:latest": { queued: 2 } },
      oldest_queued_age_seconds: 72,
      oldest_queued_age_seconds_by_model: { "llama3.2:latest": 30, "qwen2.5:latest": 72 },
    },
    jobs_run: 40,
    loads: 6,
    swaps: 4,
    wake: null,
    reloads: 1,
    recent_swaps: [
      { at: "2026-11-26T11:58:00Z", from: "qwen2.5:latest", to: "llama3.2:latest", reload: false },
      { at: "2026-11-26T11:50:00Z", from: "qwen2.5:latest", to: "qwen2.5:latest num_ctx=8192", reload: true },
    ],
    preemptions: 2,
    preempted_generation_seconds: 14.5,
    last_preemption: { at: "2026-11-26T11:59:00Z", job: "01H", model: "qwen2.5", by: "01K", discarded_seconds: 9.5, preemptions: 1 },
    batches: {
      by_status: { validating: 0, failed: 0, in_progress: 1, finalizing: 0, completed: 3, expired: 0, cancelling: 0, cancelled: 0 },
      lines: { queued: 480, loading: 0, working: 1, done: 17, failed: 2, canceled: 0 },
      running: { id: "batch_01J", status: "in_progress", model: "llama3.2", total: 500, completed: 17, failed: 2, unfinished: 481 },
    },
  };
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 19);

  test("everything on one screen", () => {
    expect(statusScreen(base, { now, url: "http://127.0.0.1:8080", clock })).toBe(
      [
        "foreman 0.1.0 at http://127.0.0.1:8080, up 2h13m",
        "database  /home/me/.local/share/foreman/foreman.db",
        "target    http://mac.lan:11434  up since 10:00:00 (2h0m)",
        "resident  llama3.2:latest",
        "worker    working llama3.2 (job 01J) for 12s",
        "queue     3 queued, 0 loading, 1 working; the oldest has waited 1m12s",
        "          MODEL            QUEUED  LOADING  WORKING  OLDEST WAIT",
        "          llama3.2:latest  1       0        1        30s",
        "          qwen2.5:latest   2       0        0        1m12s",
        "swaps     4 swaps (1 reload) in 6 loads, 40 run",
        "          11:58:00  qwen2.5:latest → llama3.2:latest  (2m0s ago)",
        "          11:50:00  qwen2.5:latest → qwen2.5:latest num_ctx=8192 (reload)  (10m0s ago)",
        "preempted 2 jobs, 15s of generation discarded",
        "          last 11:59:00  job 01H (qwen2.5) for 01K  (1m0s ago)",
        "batches   1 in_progress, 3 completed; lines 480 queued, 1 working, 17 done, 2 failed",
        "          running batch_01J (llama3.2): 19 of 500 lines ended, 2 failed",
        "",
      ].join("\n"),
    );
  });

  test("a target that is down, a paused worker, an empty queue; lines cut to the width", () => {
    const down: Status = { ...base, target: { ...base.target, up: false, reason: "liveness probe: timed out", hint: "on a Mac, run launchctl", resident: [] }, worker: { state: "paused", reason: "target down" }, queue: { by_state: {}, by_model: {}, oldest_queued_age_seconds: null, oldest_queued_age_seconds_by_model: {} }, recent_swaps: [], last_preemption: null, batches: { by_status: { in_progress: 0 }, lines: {}, running: null } };
    const screen = statusScreen(down, { now, url: "http://127.0.0.1:8080", clock, width: 40 });
    expect(screen).toContain("target    http://mac.lan:11434  DOWN si…\n          liveness probe: timed out\n          hint: on a Mac, run launchctl\n");
    expect(screen).toContain("resident  none\n");
    expect(screen).toContain("worker    paused: target down\n");
    expect(screen).toContain("queue     empty\n");
    expect(screen).toContain("preempted none\n");
    expect(screen).toContain("batches   none\n");
    const waking = statusScreen({ ...down, wake: { mac: "00:11:22:33:44:55", addr: "255.255.255.255:9", sent: 2, last_sent_at: "2026-11-26T11:59:30Z", last_error: null } }, { now, url: "http://127.0.0.1:8080", clock });
    expect(waking).toContain("\nwake      00:11:22:33:44:55 via 255.255.255.255:9: 2 packets sent, last 11:59:30 (30s ago)\n");
    for (const line of screen.trimEnd().split("\n")) expect(line.length).toBeLessThanOrEqual(40);
  });
});

describe("foreman status", () => {
  test("one screen; --json is /status", async () => {
    const r = await foreman(["status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith(`foreman `);
    expect(r.stdout).toMatch(new RegExp(`^target    ${stack.sim.url.replace(/[.]/g, "\\.")}  up since`, "m"));
    expect(r.stdout).toContain(`\ndatabase  ${stack.foreman.dir}/foreman.db\n`);
    const json = await foreman(["status", "--json"]);
    expect(Object.keys(JSON.parse(json.stdout) as Status).sort()).toEqual(Object.keys(await getStatus()).sort());
  });

  test("an unreachable foreman exits 3", async () => {
    const r = await foreman(["status", "--url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot reach foreman");
  });

  test.skipIf(!TMUX)("--watch redraws in place without scrolling; Ctrl-C exits 0 and leaves the last screen", async () => {
    const term = await openTerminal([BUN, MAIN, "status", "--watch", "--interval", "0.2"], { env: { FOREMAN_URL: stack.url }, rows: 30 });
    const headers = (s: string) => s.split("\n").filter((l) => l.startsWith("foreman ")).length;
    try {
      await term.waitForScreen((s) => s.startsWith("foreman ") && s.includes("queue     empty"), "the first screen");
      await stack.sim.setFaults({ firstByteDelayMs: 3000 });
      const jobs = [];
      for (const model of ["llama3.2", "mistral", "mistral"]) jobs.push(await client.submit({ request: { model, prompt: "x" }, endpoint: "/api/generate" }));
      const busy = await term.waitForScreen((s) => /^queue     2 queued, 1 (loading|working), /m.test(s), "the queue to show on the screen");
      // redrawn in place: one screen, from the top line, however many refreshes happened
      expect(busy.split("\n")[0]).toStartWith("foreman ");
      expect(headers(busy)).toBe(1);
      expect(busy).toMatch(/^          mistral:latest +2 +0 +0 +\d+s$/m);
      expect(busy).toMatch(/^worker    (loading|working) llama3\.2 \(job \S+\) for \d+s$/m);
      await stack.sim.setFaults({ firstByteDelayMs: 0 });
      for (const job of jobs) await client.wait(job.id);
      await term.waitForScreen((s) => s.includes("queue     empty") && headers(s) === 1, "the queue to empty on the screen");
      await term.press("C-c");
      expect(await term.exitCode()).toBe(0);
      expect(headers(await term.screen())).toBe(1);
    } finally {
      await stack.sim.setFaults({ firstByteDelayMs: 0 });
      await term.stop();
    }
  });
});
