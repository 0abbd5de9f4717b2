import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { pullCommand } from "../../src/cli/pull.ts";
import { BUN, MAIN, sharedStack } from "../harness.ts";

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

  test("on a terminal: one bar per model, redrawn in place", async () => {
    let screen = "";
    const code = await pullCommand(["llama3.1", "--target", stack.sim.url], { tty: true, write: (t) => (screen += t) });
    expect(code).toBe(0);
    const redraws = screen.split("\r\x1b[2K").filter(Boolean);
    expect(redraws.length).toBeGreaterThan(3);
    expect(redraws.at(-1)).toMatch(/^llama3\.1  \[#+\] 100%  4\.9 GB\/4\.9 GB  success\n$/);
    expect(screen.split("\n")).toHaveLength(2);
  });
});
