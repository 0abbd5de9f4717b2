// The CLI where the README says it works, on a machine with Node and npm only: the package's
// `bin` (bin/foreman.mjs) run by node with no `bun` on PATH, `npx foreman`, and `npm start --`
// passing its arguments through. Arguments, stdio, exit codes and signals go through the
// launcher unchanged; a terminal's Ctrl-C reaches foreman once.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { listeningUrl, startStack, tempDir, type Stack } from "../harness.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

const root = join(import.meta.dir, "..", "..");
const LAUNCHER = join(root, "bin", "foreman.mjs");
const node = Bun.which("node");
const npm = Bun.which("npm");
/** A PATH with node and npm, and no bun anywhere on it. */
const PATH = node ? [...new Set([dirname(node), "/usr/bin", "/bin"])].join(":") : "";
const env = (extra: Record<string, string> = {}) => ({ HOME: process.env.HOME ?? "/tmp", PATH, ...extra });

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack.stop();
});

async function launch(args: string[], extra: Record<string, string> = {}) {
  const proc = Bun.spawn([node!, LAUNCHER, ...args], { env: env(extra), cwd: tmpdir(), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe.skipIf(!node)("bin/foreman.mjs under node, no bun on PATH", () => {
  test("there is no bun on the PATH the tests use", async () => {
    const which = Bun.spawnSync(["sh", "-c", "command -v bun || echo none"], { env: env() });
    expect(which.stdout.toString().trim()).toBe("none");
  });

  test("arguments, stdout, stderr and exit codes pass through", async () => {
    const version = await launch(["--version"]);
    expect(version).toEqual({ stdout: `foreman ${(await Bun.file(join(root, "package.json")).json()).version} — queue in front of Ollama\n`, stderr: "", code: 0 });
    const ls = await launch(["jobs", "ls", "--model", "qwen2.5:0.5b", "--url", stack.url]);
    expect(ls).toEqual({ stdout: "no jobs with model qwen2.5:0.5b\n", stderr: "", code: 0 });
    // an argument with spaces arrives whole
    const usage = await launch(["jobs", "frobnicate the queue"]);
    expect(usage).toEqual({ stdout: "", stderr: 'foreman jobs: unknown command "frobnicate the queue" (see foreman jobs --help)\n', code: 2 });
    expect((await launch(["status", "--url", "http://127.0.0.1:9"])).code).toBe(3);
  });

  test("SIGTERM to the launcher stops foreman's process the way it stops foreman", async () => {
    const proc = Bun.spawn([node!, LAUNCHER, "sim", "--port", "0"], { env: env(), stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    const { value } = await reader.read();
    const url = /http:\/\/\S+/.exec(new TextDecoder().decode(value))![0];
    expect(await (await fetch(url)).text()).toBe("Ollama is running");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(await fetch(url).then(() => "up", () => "down")).toBe("down");
  });

  test.skipIf(!TMUX)("Ctrl-C on a terminal reaches foreman once: it stops cleanly (exit 0), not killed by a second one", async () => {
    const term = await openTerminal([node!, LAUNCHER, "sim", "--port", "0"], { env: env() });
    try {
      await term.waitForScreen((s) => s.includes("ollama simulator listening on"), "the simulator to start");
      await term.press("C-c");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
    }
  });
});

describe.skipIf(!node || !npm)("npx and npm start", () => {
  test("npx foreman runs the package's bin (offline, with a fresh npm cache)", async () => {
    const cache = tempDir();
    const proc = Bun.spawn([npm!, "exec", "--offline", "--yes", "--", "foreman", "jobs", "ls", "--url", stack.url, "--status", "failed", "--model", "x"], {
      env: env({ npm_config_cache: cache.path, npm_config_update_notifier: "false" }),
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    cache.remove();
    expect(stderr).toBe("");
    expect(stdout).toBe("no jobs with status failed and model x\n");
    expect(code).toBe(0);
  });

  test.skipIf(!TMUX)("Ctrl-C under npx keeps foreman's exit code (1: the answer was stopped) and the rest of the command line runs", async () => {
    const slow = await startStack({ sim: { tokenDelayMs: 200, responseTokens: 60 } });
    const term = await openTerminal(["bash", "-c", `${npm} exec --offline --yes -- foreman run llama3.2 'a long story' --url ${slow.url}; echo "[npx $?]"; echo then the rest`], {
      env: env({ npm_config_update_notifier: "false" }),
      cwd: root,
    });
    try {
      await term.waitForScreen((s) => s.trim().split(" ").length > 3, "the answer to start");
      await term.press("C-c");
      const screen = await term.waitForScreen((s) => s.includes("then the rest"), "the rest of the command line");
      expect(screen).toContain("foreman run: stopped: the answer was canceled at the target\n[npx 1]\nthen the rest");
      expect(await term.exitCode()).toBe(0);
    } finally {
      await term.stop();
      await slow.stop();
    }
  });

  test("npm start -- jobs ls passes its arguments through", async () => {
    const proc = Bun.spawn([npm!, "start", "--silent", "--", "jobs", "ls", "--url", stack.url, "--model", "y"], { env: env({ npm_config_update_notifier: "false" }), cwd: root, stdout: "pipe", stderr: "pipe" });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(stderr).toBe("");
    expect(stdout).toBe("no jobs with model y\n");
    expect(code).toBe(0);
  });

  test("npm start -- --target sim still serves, as the README's first command says", async () => {
    const dir = tempDir();
    // its own process group, so the test can stop npm and what it started, and nothing else
    const child = spawn(npm!, ["start", "--silent", "--", "--target", "sim", "--port", "0", "--host", "127.0.0.1", "--db", join(dir.path, "f.db")], {
      env: env({ npm_config_update_notifier: "false" }),
      cwd: root,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    try {
      const url = await listeningUrl(new ReadableStream({ start: (c) => (child.stderr!.on("data", (d: Buffer) => c.enqueue(new Uint8Array(d))), child.stderr!.on("end", () => c.close())) }));
      const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: unknown[] };
      expect(tags.models.length).toBeGreaterThan(0);
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-child.pid!, "SIGTERM");
      await exited;
      dir.remove();
    }
  });
});
