import { beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ForemanClient, type Job } from "foreman/client";
import { BUN, MAIN, sharedStack, startTestForeman, tempDir, waitFor } from "../harness.ts";

setDefaultTimeout(60_000);

const stack = sharedStack({ sim: { tokenDelayMs: 5, loadMs: 20 }, foreman: { pollIntervalMs: 100, maxAttempts: 2, retryBaseMs: 50 } });
let client: ForemanClient;

async function cli(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BUN, MAIN, "jobs", ...args], { env: { ...process.env, FOREMAN_URL: stack.url, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

beforeAll(() => {
  client = new ForemanClient({ baseUrl: stack.url });
});

beforeEach(async () => {
  await stack.sim.setFaults({ firstByteDelayMs: 0 });
});

describe("foreman jobs", () => {
  test("submit --wait prints the answer's text, --json the artifact; get, ls, artifact follow", async () => {
    const r = await cli(["submit", "--model", "llama3.2", "--prompt", "hi", "--metadata", '{"who":"cli"}', "--wait"]);
    expect(r.code).toBe(0);
    const [job] = (await client.list({ limit: 1 })).jobs;
    expect(job!.status).toBe("done");
    expect(job!.metadata).toEqual({ who: "cli" });
    const artifact = (await client.artifact(job!.id)) as { message: { content: string }; eval_count: number };
    expect(artifact.message.content.length).toBeGreaterThan(0);
    expect(r.stdout).toBe(`${artifact.message.content}\n`);

    const json = await cli(["submit", "--model", "llama3.2", "--prompt", "hi", "--wait", "--json"]);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { done: boolean; message: { role: string; content: string } };
    expect(parsed.done).toBe(true);
    expect(parsed.message.role).toBe("assistant");

    const got = await cli(["get", job!.id]);
    expect(got.code).toBe(0);
    expect(got.stdout).toMatch(/^status\s+done$/m);
    expect(got.stdout).toContain(job!.id);
    const u = (await client.get(job!.id)).usage!;
    expect(u.output_tokens).toBe(artifact.eval_count);
    expect(got.stdout).toMatch(new RegExp(`^usage\\s+${u.prompt_tokens} prompt \\+ ${u.output_tokens} output tokens, ${u.target_ms} ms on the target \\(load ${u.load_ms}, prompt ${u.prompt_eval_ms}, generation ${u.generation_ms}\\)$`, "m"));

    const text = await cli(["artifact", job!.id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(`${artifact.message.content}\n`);
    const raw = await cli(["artifact", job!.id, "--json"]);
    expect(JSON.parse(raw.stdout)).toEqual(artifact);
  });

  test("submit --run-after 2h --start-by 9h --max-run 10m schedules the job; ls shows when it is due; a bad value names the field", async () => {
    const r = await cli(["submit", "--model", "llama3.2", "--prompt", "later", "--run-after", "2h", "--start-by", "9h", "--max-run", "10m"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^max run\s+10m0s$/m);
    expect(r.stdout).toMatch(/^run after\s+\S+Z$/m);
    const id = /^id\s+(\S+)$/m.exec(r.stdout)![1]!;
    const ls = await cli(["ls", "--status", "queued"]);
    expect(ls.stdout.split("\n")[0]).toContain("DUE");
    expect(ls.stdout.split("\n").find((l) => l.startsWith(id))).toMatch(/ in 1h59m | in 2h0m /);
    await client.cancel(id);
    const bad = await cli(["submit", "--model", "llama3.2", "--prompt", "x", "--start-by", "yesterday"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("/start_by");
  });

  test("submit without --wait prints the queued job as a table", async () => {
    const dir = tempDir();
    const file = join(dir.path, "req.json");
    writeFileSync(file, JSON.stringify({ model: "llama3.2", prompt: "from a file" }));
    const r = await cli(["submit", "--endpoint", "/api/generate", "--request", `@${file}`, "--priority", "5", "--no-preempt"]);
    dir.remove();
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^endpoint\s+\/api\/generate$/m);
    expect(r.stdout).toMatch(/^priority\s+5$/m);
    expect(r.stdout).toMatch(/^preemptions\s+0 \(not preemptible\)$/m);
    const id = /^id\s+(\S+)$/m.exec(r.stdout)![1]!;
    expect((await client.get(id, { wait: 60 })).status).toBe("done");
  });

  test("a job that fails exits 1 with one line saying why; --json prints the failed job", async () => {
    const r = await cli(["submit", "--model", "no-such-model", "--message", "hi", "--wait"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^foreman jobs submit: job \S+ failed \(404\): .*not found/);
    const json = await cli(["submit", "--model", "no-such-model", "--message", "hi", "--wait", "--json"]);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.stdout) as Job).status).toBe("failed");
  });

  test("wait --timeout exits 4 and leaves the job running; cancel exits 0; cancel again exits 3", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 5000 });
    const job = await client.submit({ request: { model: "llama3.2", prompt: "slow" }, endpoint: "/api/generate" });
    const waited = await cli(["wait", job.id, "--timeout", "0.3"]);
    expect(waited.code).toBe(4);
    expect(waited.stderr).toContain("was not canceled");
    expect((await client.get(job.id)).status).not.toBe("canceled");

    const canceled = await cli(["cancel", job.id, "--json"]);
    expect(canceled.code).toBe(0);
    expect(["canceled", "working", "loading"]).toContain((JSON.parse(canceled.stdout) as Job).status);
    expect((await client.get(job.id, { wait: 60 })).status).toBe("canceled");

    const again = await cli(["cancel", job.id]);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain("HTTP 409");

    const ended = await cli(["wait", job.id]);
    expect(ended.code).toBe(1);
  });

  test("an unknown job exits 3 with foreman's message", async () => {
    const r = await cli(["get", "no-such-job"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("HTTP 404");
  });

  test.each([
    [["submit", "--prompt", "no model"], "a model is required"],
    [["submit", "--model", "m", "--bogus"], "bogus"],
    [["get"], "foreman jobs get: missing ID (see foreman jobs get --help)"],
    [["get", "a", "b"], "too many arguments"],
    [["frobnicate"], 'foreman jobs: unknown command "frobnicate"'],
    [["ls", "--limit"], "--limit needs a value"],
    [["ls", "--status", "bogus"], "--status: expected one of queued"],
    [["ls", "--lane", "fast"], "--lane: expected one of async, interactive"],
    [["submit", "--model", "m", "--endpoint", "/api/nope"], "--endpoint"],
    [["submit", "--model", "m", "--request", "{not json"], "not valid JSON"],
  ])("usage error %p exits 2 with one line", async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("--help documents the exit codes", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    for (const code of ["0  ok", "1  the job failed", "2  usage error", "3  HTTP error", "4  timed out"]) expect(r.stdout).toContain(code);
  });

  test("an unreachable foreman exits 3", async () => {
    const r = await cli(["get", "x", "--url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot reach foreman");
  });

  test("ls lists jobs as a table and as JSON, filtered by status", async () => {
    const job = await client.submit({ request: { model: "llama3.2", messages: [] } });
    await client.get(job.id, { wait: 60 });
    const table = await cli(["ls", "--status", "done"]);
    expect(table.code).toBe(0);
    expect(table.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+MODEL/);
    expect(table.stdout).toContain(job.id);
    const json = await cli(["ls", "--json", "--limit", "1"]);
    expect(json.code).toBe(0);
    const page = JSON.parse(json.stdout) as { jobs: Job[]; next_cursor: string | null };
    expect(page.jobs).toHaveLength(1);
    expect(page.next_cursor).toBeString();
  });

  test("ls shows the queue position of queued jobs and their age; an empty result says so", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 3000 });
    const jobs: Job[] = [];
    for (let i = 0; i < 4; i++) jobs.push(await client.submit({ request: { model: "llama3.2", prompt: `q${i}` }, endpoint: "/api/generate" }));
    try {
      await waitFor(async () => (await client.get(jobs[0]!.id)).status !== "queued", { what: "the first job to leave the queue" });
      const r = await cli(["ls", "--status", "queued"]);
      expect(r.code).toBe(0);
      const [header, ...rows] = r.stdout.trim().split("\n");
      expect(header).toMatch(/^ID\s+STATUS\s+MODEL\s+ENDPOINT\s+PRIORITY\s+POSITION\s+DUE\s+DONE IN\s+AGE$/);
      // newest first: the last submitted has the most requests ahead of it
      expect(rows.map((row) => row.split(/\s+/)[0])).toEqual([jobs[3]!.id, jobs[2]!.id, jobs[1]!.id]);
      expect(rows.map((row) => row.split(/\s+/)[5])).toEqual(["2", "1", "0"]);
      for (const row of rows) expect(row).toMatch(/\s\d+s$/);
    } finally {
      for (const job of jobs) await client.cancel(job.id).catch(() => {});
    }
    const none = await cli(["ls", "--status", "queued", "--model", "no-such-model"]);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe("no jobs with status queued and model no-such-model\n");
  });

  test("ls --lane interactive shows the passthrough requests waiting, with their position and request id", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 3000 });
    const abort = new AbortController();
    const chat = (requestId: string) =>
      fetch(`${stack.url}/api/chat`, { method: "POST", headers: { "x-request-id": requestId }, body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }), signal: abort.signal }).catch(() => undefined);
    const calls = [chat("first-in-line")];
    try {
      await waitFor(async () => (await client.list({ lane: "interactive", status: "working" })).jobs.length === 1, { what: "the first passthrough request on the target" });
      calls.push(chat("second-in-line"));
      await waitFor(async () => (await client.list({ lane: "interactive", status: "queued" })).jobs.length === 1, { what: "the second passthrough request in the queue" });
      const r = await cli(["ls", "--lane", "interactive"]);
      expect(r.code).toBe(0);
      const [header, ...rows] = r.stdout.trim().split("\n");
      expect(header).toMatch(/^ID\s+STATUS\s+MODEL\s+ENDPOINT\s+POSITION\s+DONE IN\s+REQUEST\s+AGE$/);
      // DONE IN (the sixth column) depends on the history of the shared stack: left out
      expect(rows.slice(0, 2).map((row) => row.split(/\s+/).filter((_, i) => i >= 1 && i <= 6 && i !== 5))).toEqual([
        ["queued", "llama3.2", "/api/chat", "0", "second-in-line"],
        ["working", "llama3.2", "/api/chat", "-", "first-in-line"],
      ]);
    } finally {
      abort.abort();
      await Promise.all(calls);
    }
    const none = await cli(["ls", "--lane", "interactive", "--model", "no-such-model"]);
    expect(none.stdout).toBe("no passthrough requests with model no-such-model\n");
  });

  test("watch streams the state changes and the generated text until the job ends", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 500 });
    const job = await client.submit({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] } });
    const r = await cli(["watch", job.id]);
    expect(r.code).toBe(0);
    const artifact = (await client.artifact(job.id)) as { message: { content: string } };
    const lines = r.stdout.split("\n");
    expect(lines.some((l) => /^(queued|loading|working)\b/.test(l))).toBe(true);
    expect(r.stdout).toContain(artifact.message.content);
    expect(lines.at(-2)).toMatch(/^done     \d+ tokens/);
    // an ended job: its last state, and the exit code says how it ended
    const failed = await client.submit({ request: { model: "no-such-model", messages: [] } });
    await client.wait(failed.id);
    const again = await cli(["watch", failed.id]);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("failed   (404)");
    const json = await cli(["watch", job.id, "--json"]);
    expect(json.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { event: string }).event).at(-1)).toBe("job.done");
  });

  test("with FOREMAN_TOKEN set on the server: 401 without a token (exit 3), --token or FOREMAN_TOKEN works", async () => {
    const guarded = await startTestForeman({ target: stack.sim.url, token: "s3cret" });
    try {
      const denied = await cli(["submit", "--model", "llama3.2", "--prompt", "hi", "--url", guarded.url]);
      expect(denied.code).toBe(3);
      expect(denied.stderr).toContain("HTTP 401");
      const flag = await cli(["submit", "--model", "llama3.2", "--prompt", "hi", "--url", guarded.url, "--token", "s3cret", "--json"]);
      expect(flag.code).toBe(0);
      const env = await cli(["get", (JSON.parse(flag.stdout) as Job).id, "--url", guarded.url], { FOREMAN_TOKEN: "s3cret" });
      expect(env.code).toBe(0);
    } finally {
      await guarded.stop();
    }
  });
});
