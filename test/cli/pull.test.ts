import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import { BUN, MAIN, sharedStack } from "../harness.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

const stack = sharedStack({ sim: { tokenDelayMs: 2 } });

async function pull(args: string[]) {
  const proc = Bun.spawn([BUN, MAIN, "pull", ...args], { env: { ...process.env, FOREMAN_URL: stack.url }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

const tags = async () => ((await (await fetch(`${stack.sim.url}/api/tags`)).json()) as { models: { name: string }[] }).models.map((m) => m.name);

describe("foreman pull", () => {
  test("through foreman: plain progress lines (stdout is not a TTY), exit 0, the model is on the target", async () => {
    const r = await pull(["phi3"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("phi3: pulling manifest");
    expect(lines).toContainEqual(expect.stringMatching(/^phi3: pulling [0-9a-f]{12} \(\d+%\)$/));
    expect(lines.at(-1)).toBe("phi3: success (100%)");
    expect(r.stdout).not.toContain("\r");
    expect(await tags()).toContain("phi3:latest");
  });

  test("straight to the target with --target, several models", async () => {
    const r = await pull(["gemma2:2b", "all-minilm", "--target", stack.sim.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gemma2:2b: success");
    expect(r.stdout).toContain("all-minilm: success");
  });

  test("a model the target does not have exits 1 with the target's message; the others still pull", async () => {
    const r = await pull(["no-such-model", "llama3.1"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no-such-model: pull model manifest: file does not exist");
    expect(r.stdout).toContain("llama3.1: success");
  });

  test("no model is a usage error; an unreachable target exits 3", async () => {
    expect((await pull([])).code).toBe(2);
    const r = await pull(["phi3", "--target", "http://127.0.0.1:9"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot reach");
  });

  test("a model the target does not know: its error once, on stderr, nothing about it on stdout", async () => {
    const r = await pull(["no-such-model"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("foreman pull: no-such-model: pull model manifest: file does not exist\n");
    expect(r.stdout).toBe("no-such-model: pulling manifest\n");
  });
});

describe.skipIf(!TMUX)("foreman pull on a terminal", () => {
  test("one bar per model, lined up, fitted to the width, with speed and time left while it runs; errors once", async () => {
    const slow = await startSimulator({ port: 0, tokenDelayMs: 600 });
    const term = await openTerminal([BUN, MAIN, "pull", "phi3", "nomic-embed-text", "no-such-model", "--target", slow.url], { cols: 120, rows: 20 });
    try {
      // mid-pull: Ollama's speed and time left
      const running = await term.waitForScreen((s) => /▏ +[\d.]+ [KMG]?B\/ *[\d.]+ [KMG]?B +[\d.]+ [KMG]?B\/s +\d+(s|m\d+s)  pulling [0-9a-f]{12}$/m.test(s), "a bar with its speed and time left");
      expect(running.split("\n")[0]).toMatch(/^phi3 {13,14}\d+% /);
      expect(await term.exitCode(30_000)).toBe(1);
      const lines = (await term.screen()).split("\n");
      expect(lines[0]).toMatch(/^phi3 {13}100% ▕█+▏ +2\.2 GB {20,}success$/);
      expect(lines[1]).toMatch(/^nomic-embed-text 100% ▕█+▏ +274 MB {20,}success$/);
      // lined up, and never wider than the terminal (a wrapped line would show as an extra line)
      expect(lines[0]!.indexOf("▏")).toBe(lines[1]!.indexOf("▏"));
      for (const line of lines) expect(line.length).toBeLessThan(120);
      expect(lines[2]).toBe("no-such-model     failed");
      expect(lines[3]).toBe("foreman pull: no-such-model: pull model manifest: file does not exist");
      expect(lines.filter((l) => l.includes("file does not exist"))).toHaveLength(1);
      expect(lines[4]).toBe("[exit 1]");
    } finally {
      await term.stop();
      await slow.stop();
    }
  }, 60_000);

  test("at 80 columns the steps after the download are in view (not a bar that looks like a hang); at 40 the speed stays", async () => {
    const slow = await startSimulator({ port: 0, tokenDelayMs: 700 });
    const wide = await openTerminal([BUN, MAIN, "pull", "llama3.1", "--target", slow.url], { cols: 80, rows: 10 });
    const narrow = await openTerminal([BUN, MAIN, "pull", "gemma2:2b", "--target", slow.url], { cols: 40, rows: 10 });
    try {
      await narrow.waitForScreen((s) => /^gemma2:2b +\d+% +[\d.]+ [KMG]?B\/ *[\d.]+ [KMG]?B +[\d.]+ [KMG]?B\/s$/m.test(s), "the speed at 40 columns");
      for (const step of ["verifying sha256 digest", "writing manifest"]) {
        const screen = await wide.waitForScreen((s) => s.includes(step), `"${step}" on the bar`);
        expect(screen.split("\n")[0]).toMatch(new RegExp(`^llama3\\.1 100% ▕█+▏ +[\\d.]+ GB +${step}$`));
      }
      expect(await wide.exitCode(30_000)).toBe(0);
      expect(await narrow.exitCode(30_000)).toBe(0);
    } finally {
      await wide.stop();
      await narrow.stop();
      await slow.stop();
    }
  }, 60_000);
});
