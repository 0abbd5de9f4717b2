// The README's batch walkthrough works as written: its JSONL file, and its curl commands run by
// bash (curl and jq, as a newcomer runs them) against a real foreman with a token, end with a
// results file holding one line per input line, joined on custom_id; so do its openai client, CLI
// and Anthropic client walkthroughs, run as written.
import { expect, test } from "bun:test";
import { readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, MAIN, sharedStack, tempDir } from "../../harness.ts";

const root = join(import.meta.dir, "..", "..", "..");
const tools = Bun.which("curl") && Bun.which("jq") && Bun.which("bash");

/** The first fenced block with this info string after `marker` in the README. */
function blockAfter(readme: string, marker: string, info: string): string {
  const from = readme.indexOf(marker);
  expect(from, `README has "${marker}"`).toBeGreaterThan(-1);
  const m = new RegExp("```" + info + "\\n([\\s\\S]*?)```").exec(readme.slice(from));
  expect(m, `a ${info} block after "${marker}"`).not.toBeNull();
  return m![1]!;
}

const stack = sharedStack({ foreman: { token: "s3cret" } });

test.skipIf(!tools)("the README's curl walkthrough: from tickets.jsonl to results.jsonl", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const dir = tempDir("foreman-readme-batch-");
  writeFileSync(join(dir.path, "tickets.jsonl"), blockAfter(readme, "### Batches", "jsonl"));
  const script = blockAfter(readme, "**With curl:**", "sh").replaceAll("localhost:8080", new URL(stack.url).host).replaceAll("sleep 2", "sleep 0.1");
  const proc = Bun.spawn(["bash", "-c", script], { cwd: dir.path, env: { ...process.env, FOREMAN_TOKEN: "s3cret" }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout).toContain('{"status":"completed","request_counts":{"total":2,"completed":2,"failed":0}}');
  const results = readFileSync(join(dir.path, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(results.map((r) => r.custom_id).sort()).toEqual(["t1", "t2"]);
  for (const r of results) expect(r.response.body.choices[0].message.content.length).toBeGreaterThan(0);
  // the last command lists the lines as jobs
  expect(stdout).toMatch(/"custom_id": "t1",\s+"status": "done"/);
  dir.remove();
}, 40_000);

/** Runs `argv` in `dir` with the stack's token to its end (killed after 30 s): what it printed, and its exit code. */
async function run(argv: string[], dir: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn(argv, { cwd: dir, env: { ...process.env, FOREMAN_TOKEN: "s3cret", ...env }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill(), 30_000);
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

/** A README TypeScript block written into `dir` as a script, aimed at the stack, polling fast; the repository's packages resolve from it. */
function script(dir: string, block: string): string {
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  const path = join(dir, "walkthrough.ts");
  writeFileSync(path, block.replaceAll("http://localhost:8080", stack.url).replaceAll("setTimeout(r, 5000)", "setTimeout(r, 50)"));
  return path;
}

test("the README's openai client walkthrough: from tickets.jsonl to results.jsonl", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const dir = tempDir("foreman-readme-openai-");
  writeFileSync(join(dir.path, "tickets.jsonl"), blockAfter(readme, "### Batches", "jsonl"));
  const { stderr, code } = await run([BUN, script(dir.path, blockAfter(readme, "**With the openai client**", "ts"))], dir.path);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  const results = readFileSync(join(dir.path, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(results.map((r) => r.custom_id).sort()).toEqual(["t1", "t2"]);
  for (const r of results) expect(r.response.status_code).toBe(200);
  dir.remove();
}, 40_000);

test("the README's CLI walkthrough: batch submit --wait writes results.jsonl", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const dir = tempDir("foreman-readme-cli-");
  writeFileSync(join(dir.path, "tickets.jsonl"), blockAfter(readme, "### Batches", "jsonl"));
  const first = blockAfter(readme, "**With the CLI**", "sh").split("\n")[0]!.replace(/#.*$/, "").trim().split(/\s+/);
  expect(first.slice(0, 3)).toEqual(["foreman", "batch", "submit"]);
  const { stdout, stderr, code } = await run([BUN, MAIN, ...first.slice(1)], dir.path, { FOREMAN_URL: stack.url });
  expect(code, stderr).toBe(0);
  expect(stdout).toContain("results.jsonl");
  const results = readFileSync(join(dir.path, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
  expect(results.map((r) => r.custom_id).sort()).toEqual(["t1", "t2"]);
  dir.remove();
}, 40_000);

test("the README's Anthropic client walkthrough: every request's result, by custom_id", async () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const dir = tempDir("foreman-readme-anthropic-");
  const from = readme.indexOf("Anthropic's Message Batches API runs on the same engine");
  expect(from).toBeGreaterThan(-1);
  const block = blockAfter(readme.slice(from), "```ts", "ts");
  const { stdout, stderr, code } = await run([BUN, script(dir.path, block)], dir.path);
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(stdout.trim()).toBe("t1 succeeded");
  dir.remove();
}, 40_000);
