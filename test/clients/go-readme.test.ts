// The README's Go example works as written: its go.mod (the `replace` line pointing at a
// checkout beside the module) and its program, copied verbatim into a throwaway module next
// to a "foreman" checkout, build with no network and run against a real foreman.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { accessSync, constants, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStack, tempDir, type Stack } from "../harness.ts";

const go = Bun.which("go");
const root = join(import.meta.dir, "..", "..");

/** The fenced blocks of one README section, by their info string. */
async function readmeBlocks(section: string): Promise<Record<string, string>> {
  const readme = await Bun.file(join(root, "README.md")).text();
  const start = readme.indexOf(section);
  expect(start).toBeGreaterThan(-1);
  const ends = ["\n### ", "\n## "].map((h) => readme.indexOf(h, start + section.length)).filter((i) => i > 0);
  const body = readme.slice(start, Math.min(...ends));
  const blocks: Record<string, string> = {};
  for (const m of body.matchAll(/```([\w.]+)\n([\s\S]*?)```/g)) blocks[m[1]!] ??= m[2]!;
  return blocks;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.stop();
});

test.skipIf(!go)("the README's Go module (replace line and program) builds against clients/go and runs", async () => {
  const blocks = await readmeBlocks("### Go (`clients/go`");
  expect(blocks["go.mod"]).toContain("replace foreman.local/client => ../foreman/clients/go");
  const dir = tempDir("foreman-go-readme-");
  const caches = tempDir("foreman-go-cache-");
  try {
    symlinkSync(root, join(dir.path, "foreman"));
    const app = join(dir.path, "your-app");
    mkdirSync(app);
    writeFileSync(join(app, "go.mod"), blocks["go.mod"]!);
    writeFileSync(join(app, "main.go"), blocks.go!);
    let homeWritable = true;
    try {
      accessSync(process.env.HOME ?? "/nonexistent", constants.W_OK);
    } catch {
      homeWritable = false;
    }
    const env = { ...process.env, GOFLAGS: "-mod=mod", GOPROXY: "off", ...(homeWritable ? {} : { GOCACHE: join(caches.path, "build"), GOPATH: join(caches.path, "path") }) };
    const build = Bun.spawn([go!, "build", "-o", "app", "."], { cwd: app, env, stdout: "pipe", stderr: "pipe" });
    const [buildOut, buildErr, built] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
    expect(buildOut + buildErr).toBe("");
    expect(built).toBe(0);
    // the go.mod is still as the README wrote it: nothing had to be added to make it build,
    // so it builds in Go's default (read-only) module mode too
    expect(await Bun.file(join(app, "go.mod")).text()).toBe(blocks["go.mod"]!);
    const strict = Bun.spawnSync([go!, "build", "-o", "app", "."], { cwd: app, env: { ...env, GOFLAGS: "-mod=readonly" }, stderr: "pipe" });
    expect(strict.stderr.toString()).toBe("");
    expect(strict.exitCode).toBe(0);

    const run = Bun.spawn([join(app, "app")], { env: { ...process.env, FOREMAN_URL: stack.url }, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const direct = (await (await fetch(`${stack.sim.url}/api/generate`, { method: "POST", body: JSON.stringify({ model: "llama3.2", prompt: "Hi", stream: false }) })).json()) as { response: string };
    expect(stdout).toBe(`${direct.response}\n`);
  } finally {
    dir.remove();
    caches.remove();
  }
}, 180_000);
