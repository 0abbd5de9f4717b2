// `foreman batch …` (issue 19) against a real foreman and the simulator: submit a JSONL file and
// wait for its results (to stdout and to -o FILE, a failing line among them), ls, get, results
// (raw and --json joined to custom_id), cancel, `jobs ls --batch`; the exit codes (a missing file,
// an unknown batch, results asked too early, a wait that runs out); and on a real terminal
// (tmux) the progress bar with its rate and time left. --webhook and --line-webhooks set the
// metadata foreman reads (ADR 0043), judged by a real receiver.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ForemanClient } from "foreman/client";
import { BUN, MAIN, sharedStack, tempDir, waitFor } from "../harness.ts";
import { startReceiver } from "../webhooks/receiver.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

const line = (id: string, model = "llama3.2") => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model, messages: [{ role: "user", content: `say ${id}` }] } });
const dir = tempDir("foreman-batch-cli-");
const jsonlFile = (name: string, lines: string[]) => {
  const path = join(dir.path, name);
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
};

async function cli(url: string, args: string[]) {
  const proc = Bun.spawn([BUN, MAIN, "batch", ...args], { env: { ...process.env, FOREMAN_URL: url, FOREMAN_TOKEN: "s3cret" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("foreman batch", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 2 }, foreman: { token: "s3cret" } });
  const client = () => new ForemanClient({ baseUrl: stack.url, token: "s3cret" });

  test("submit --wait prints the output and error lines, the endpoint from the first line; get, ls, results and jobs ls --batch follow", async () => {
    const file = jsonlFile("chat.jsonl", [line("a"), line("b"), line("bad", "no-such-model")]);
    const r = await cli(stack.url, ["submit", file, "--wait"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number } });
    expect(lines.map((l) => l.custom_id).sort()).toEqual(["a", "b", "bad"]);
    expect(lines.find((l) => l.custom_id === "bad")!.response.status_code).toBe(404);
    // stderr is not a terminal: plain progress lines, ending with the batch completed
    expect(r.stderr).toMatch(/: completed 3\/3 done, 1 failed \(100%\)\n$/);

    const [batch] = (await client().batches({ limit: 1 })).data;
    expect(batch!.endpoint).toBe("/v1/chat/completions");
    const got = await cli(stack.url, ["get", batch!.id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^status\s+completed$/m);
    expect(got.stdout).toMatch(/^lines\s+3 \(2 completed, 1 failed\)$/m);
    expect(JSON.parse((await cli(stack.url, ["get", batch!.id, "--json"])).stdout)).toEqual(batch!);

    const ls = await cli(stack.url, ["ls"]);
    // two models among the lines: no one model to show
    expect(ls.stdout).toMatch(new RegExp(`^${batch!.id}\\s+completed\\s+/v1/chat/completions\\s+-\\s+3/3\\s+1\\s+\\d+s$`, "m"));
    expect(JSON.parse((await cli(stack.url, ["ls", "--json", "--limit", "1"])).stdout).data[0].id).toBe(batch!.id);

    const out = join(dir.path, "results.jsonl");
    const saved = await cli(stack.url, ["results", batch!.id, "-o", out]);
    expect(saved).toMatchObject({ code: 0, stdout: `${out}\n` });
    expect(readFileSync(out, "utf8")).toBe(r.stdout);
    const joined = (await cli(stack.url, ["results", batch!.id, "--json"])).stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(joined.find((j) => j.custom_id === "a")).toMatchObject({ ok: true, status_code: 200, error: null });
    expect(joined.find((j) => j.custom_id === "bad")).toMatchObject({ ok: false, status_code: 404 });

    const jobs = Bun.spawn([BUN, MAIN, "jobs", "ls", "--batch", batch!.id, "--json"], { env: { ...process.env, FOREMAN_URL: stack.url, FOREMAN_TOKEN: "s3cret" }, stdout: "pipe" });
    const listed = JSON.parse(await new Response(jobs.stdout).text()) as { jobs: { batch_id: string; custom_id: string }[] };
    expect(listed.jobs.map((j) => j.custom_id).sort()).toEqual(["a", "b", "bad"]);
    expect(new Set(listed.jobs.map((j) => j.batch_id))).toEqual(new Set([batch!.id]));
    const table = Bun.spawn([BUN, MAIN, "jobs", "ls", "--batch", batch!.id], { env: { ...process.env, FOREMAN_URL: stack.url, FOREMAN_TOKEN: "s3cret" }, stdout: "pipe" });
    const rows = (await new Response(table.stdout).text()).trim().split("\n");
    expect(rows[0]).toMatch(/^ID\s+CUSTOM_ID\s+STATUS\s+MODEL\s+POSITION\s+DONE IN\s+AGE$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/).slice(1, 3).join(" ")).sort()).toEqual(["a done", "b done", "bad failed"]);
  });

  test("submit without --wait prints the batch; cancel ends it cancelled; results before any exist exit 3; submit --wait of a cancelled batch exits 1", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 200 });
    try {
      const file = jsonlFile("many.jsonl", Array.from({ length: 30 }, (_, i) => line(`l${i}`)));
      const r = await cli(stack.url, ["submit", file, "--json"]);
      expect(r.code).toBe(0);
      const batch = JSON.parse(r.stdout) as { id: string; status: string };
      expect(batch.status).toBe("validating");
      const early = await cli(stack.url, ["results", batch.id]);
      expect(early.code).toBe(3);
      expect(early.stderr).toContain(`batch ${batch.id} has no results yet`);
      const timedOut = await cli(stack.url, ["submit", file, "--wait", "--timeout", "0"]);
      expect(timedOut.code).toBe(4);
      expect(timedOut.stderr).toContain("goes on and was not cancelled");
      const cancelled = await cli(stack.url, ["cancel", batch.id]);
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toMatch(/^status\s+(cancelling|cancelled)$/m);
      await waitFor(async () => (await client().batch(batch.id)).status === "cancelled", { what: "the batch to end cancelled", timeoutMs: 20_000 });
      const [leftRunning] = (await client().batches({ limit: 1 })).data;
      await client().cancelBatch(leftRunning!.id);

      // a batch cancelled while submit --wait follows it: the ended batch, exit 1
      const waiting = Bun.spawn([BUN, MAIN, "batch", "submit", file, "--wait", "--json"], { env: { ...process.env, FOREMAN_URL: stack.url, FOREMAN_TOKEN: "s3cret" }, stdout: "pipe", stderr: "pipe" });
      const followed = await waitFor(async () => (await client().batches({ limit: 1 })).data.find((b) => b.id !== leftRunning!.id)?.id, { what: "the followed batch", timeoutMs: 20_000 });
      await client().cancelBatch(followed);
      const [stdout, code] = await Promise.all([new Response(waiting.stdout).text(), waiting.exited]);
      expect(code).toBe(1);
      expect(JSON.parse(stdout)).toMatchObject({ id: followed, status: "cancelled" });
    } finally {
      await stack.sim.setFaults({ firstByteDelayMs: 0 });
    }
  });

  test("usage errors exit 2, an unknown batch exits 3 with foreman's message; every command has --help", async () => {
    const missing = await cli(stack.url, ["submit", join(dir.path, "nope.jsonl")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.jsonl: no such file");
    expect((await cli(stack.url, ["ls", "--limit", "101"])).code).toBe(2);
    const unknown = await cli(stack.url, ["get", "batch_nope"]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain("HTTP 404");
    for (const sub of ["submit", "ls", "get", "results", "cancel"]) {
      const help = await cli(stack.url, [sub, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`foreman batch ${sub}`);
      expect(help.stdout).toContain("--json");
    }
  });
});

describe("foreman batch submit --webhook --line-webhooks", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 1 }, foreman: { token: "s3cret", webhookAllow: "127.0.0.1" } });

  test("the batch's end and each line's job.done reach the receiver; a value foreman cannot read exits 3 naming metadata.line_webhooks", async () => {
    const receiver = startReceiver();
    try {
      const file = jsonlFile("hooked.jsonl", [line("h1"), line("h2")]);
      const r = await cli(stack.url, ["submit", file, "--webhook", receiver.url, "--line-webhooks", "job.done", "--wait"]);
      expect(r.code).toBe(0);
      const got = await receiver.until((all) => all.filter((x) => x.json.type === "job.done").length === 2 && all.some((x) => x.json.type === "batch.completed"));
      expect(got.map((x) => x.json.type).sort()).toEqual(["batch.completed", "job.done", "job.done"]);
      expect(got.filter((x) => x.json.type === "job.done").map((x) => x.json.data.metadata?.custom_id).sort()).toEqual(["h1", "h2"]);

      const bad = await cli(stack.url, ["submit", file, "--webhook", receiver.url, "--line-webhooks", "yes"]);
      expect(bad.code).toBe(3);
      expect(bad.stderr).toContain("metadata.line_webhooks");
    } finally {
      await receiver.stop();
    }
  });
});

describe.skipIf(!TMUX)("foreman batch submit --wait on a terminal", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 15 }, foreman: { token: "s3cret" } });

  test("a progress bar of lines done with the rate and time left, redrawn in place; then the results file's path", async () => {
    const file = jsonlFile("slow.jsonl", Array.from({ length: 24 }, (_, i) => line(`s${i}`)));
    const out = join(dir.path, "slow-results.jsonl");
    // each line waits for its first byte, so the batch runs for seconds: the bar is seen mid-run
    // however busy the machine is (a batch that ran in a blink went from validating to completed)
    await stack.sim.setFaults({ firstByteDelayMs: 150 });
    const term = await openTerminal([BUN, MAIN, "batch", "submit", file, "--wait", "-o", out], { env: { FOREMAN_URL: stack.url, FOREMAN_TOKEN: "s3cret" }, cols: 100, rows: 10 });
    try {
      const running = await term.waitForScreen((s) => /^batch_\S+  in_progress +\d+% ▕█* *▏ \d+\/24 done  [\d.]+\/s  ETA \d+(s|m\d+s)$/m.test(s), "a bar with its rate and time left");
      expect(running.split("\n").filter((l) => l.startsWith("batch_"))).toHaveLength(1);
      expect(await term.exitCode(40_000)).toBe(0);
      const lines = (await term.screen()).split("\n");
      expect(lines[0]).toMatch(/^batch_\S+  completed 100% ▕█+▏ 24\/24 done$/);
      for (const l of lines) expect(l.length).toBeLessThan(100);
      expect(lines[1]).toBe(out);
      expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(24);
    } finally {
      await term.stop();
      await stack.sim.setFaults({ firstByteDelayMs: 0 });
    }
  }, 60_000);
});
