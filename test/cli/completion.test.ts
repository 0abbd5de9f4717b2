// Shell completions, generated from the command table, loaded into real shells: bash (asked
// through its completion function, and with Tab in a terminal), zsh (Tab in a terminal) and
// fish (`complete -C`). Each shell is skipped when it is not installed.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMMANDS } from "../../src/cli/commands.ts";
import { flagsOf, type CommandSpec } from "../../src/cli/spec.ts";
import { BUN, MAIN, tempDir } from "../harness.ts";
import { openTerminal, TMUX } from "./terminal.ts";

setDefaultTimeout(60_000);

const bash = Bun.which("bash");
const zsh = Bun.which("zsh");
const fish = Bun.which("fish");
const dir = tempDir("foreman-completion-");
const scripts: Record<string, string> = {};

beforeAll(async () => {
  for (const shell of ["bash", "zsh", "fish"]) {
    const proc = Bun.spawn([BUN, MAIN, "completion", shell], { stdout: "pipe" });
    scripts[shell] = join(dir.path, `foreman.${shell}`);
    writeFileSync(scripts[shell]!, await new Response(proc.stdout).text());
    expect(await proc.exited).toBe(0);
  }
});

afterAll(() => dir.remove());

/** What bash's completion function offers for the words typed so far (the last may be partial). */
async function bashComplete(words: string[]): Promise<string[]> {
  const line = ["foreman", ...words];
  const script = `source ${scripts.bash}; COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}; compopt() { :; }; _foreman; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const proc = Bun.spawn([bash!, "--norc", "--noprofile", "-c", script], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(err).toBe("");
  return out.split("\n").filter(Boolean);
}

function every(spec: CommandSpec, path: string[] = []): { path: string[]; spec: CommandSpec }[] {
  return [{ path, spec }, ...(spec.commands ?? []).flatMap((c) => every(c, [...path, c.name]))];
}

describe.skipIf(!bash)("bash", () => {
  test("the script is registered for foreman", async () => {
    const proc = Bun.spawn([bash!, "--norc", "--noprofile", "-c", `source ${scripts.bash}; complete -p foreman`], { stdout: "pipe" });
    expect((await new Response(proc.stdout).text()).trim()).toBe("complete -F _foreman foreman");
  });

  test.each([
    [["jo"], ["jobs"]],
    [["jobs", "sub"], ["submit"]],
    [["jobs", "submit", "--end"], ["--endpoint"]],
    [["jobs", "submit", "--endpoint", "/api/c"], ["/api/chat"]],
    [["jobs", "submit", "--model", ""], []],
    [["jobs", "ls", "--status", "c"], ["canceled"]],
    [["completion", ""], ["bash", "zsh", "fish", "--help", "-h"]],
    [["--log-level", "w"], ["warn"]],
    [["s"], ["serve", "status", "show", "stop", "sim"]],
    // an alias leads to its command's flags
    [["ls", "--j"], ["--json"]],
    [["jobs", "show", "--wa"], ["--wait"]],
    [["jobs", "watch", "--js"], ["--json"]],
    [["backup", "--db", "package.j"], ["package.json"]],
  ])("foreman %p<TAB> offers %p", async (words, offered) => {
    expect(await bashComplete(words)).toEqual(offered);
  });

  test("every command offers exactly its own commands and flags, as the table has them", async () => {
    for (const { path, spec } of every(COMMANDS)) {
      const flags = flagsOf(spec).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
      const expected = [...(spec.commands ?? []).map((c) => c.name), ...(Array.isArray(spec.complete) ? spec.complete : []), ...flags];
      // a command whose argument is a file offers files for a bare word, and its flags for a dash
      if (spec.complete === "file") expect({ path, offered: await bashComplete([...path, "-"]) }).toEqual({ path, offered: flags });
      else expect({ path, offered: await bashComplete([...path, ""]) }).toEqual({ path, offered: expected });
    }
  });

  test.skipIf(!TMUX)("Tab in an interactive bash completes foreman jo and foreman jobs sub", async () => {
    const term = await openTerminal([bash!, "--norc", "--noprofile"]);
    try {
      await term.type(`PS1='$ '; source ${scripts.bash}`);
      await term.press("Enter");
      await term.waitForScreen((s) => s.endsWith("\n$"), "the prompt");
      await term.type("foreman jo");
      await term.press("Tab");
      await term.waitForScreen((s) => s.endsWith("$ foreman jobs"), "foreman jobs");
      await term.type("sub");
      await term.press("Tab");
      await term.waitForScreen((s) => s.endsWith("$ foreman jobs submit"), "foreman jobs submit");
    } finally {
      await term.stop();
    }
  });
});

describe.skipIf(!zsh || !TMUX)("zsh", () => {
  test("Tab in an interactive zsh completes foreman jo, jobs sub and a flag's values", async () => {
    const term = await openTerminal([zsh!, "-f"]);
    try {
      await term.type(`PS1='$ '; autoload -U compinit && compinit -u && source ${scripts.zsh}`);
      await term.press("Enter");
      await term.waitForScreen((s) => s.endsWith("\n$"), "the prompt");
      await term.type("foreman jo");
      await term.press("Tab");
      await term.waitForScreen((s) => s.endsWith("$ foreman jobs"), "foreman jobs");
      await term.type("sub");
      await term.press("Tab");
      await term.waitForScreen((s) => s.endsWith("$ foreman jobs submit"), "foreman jobs submit");
      await term.type("--endpoint /api/emb");
      await term.press("Tab");
      await term.waitForScreen((s) => s.endsWith("--endpoint /api/embed"), "the common part of the two endpoints that match");
      await term.press("Tab");
      await term.waitForScreen((s) => /^\/api\/embed +\/api\/embeddings$/m.test(s), "both endpoints listed");
    } finally {
      await term.stop();
    }
  });
});

describe.skipIf(!fish)("fish", () => {
  async function fishComplete(line: string): Promise<string[]> {
    const proc = Bun.spawn([fish!, "--no-config", "-c", `source ${scripts.fish}; complete -C '${line}'`], { stdout: "pipe", stderr: "pipe" });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    expect(err).toBe("");
    return out.split("\n").filter(Boolean).map((l) => l.split("\t")[0]!);
  }
  test.each([
    ["foreman jo", ["jobs"]],
    ["foreman jobs sub", ["submit"]],
    ["foreman jobs ls --status q", ["--status=queued"]],
    ["foreman completion ", ["bash", "fish", "zsh"]],
  ])("%p<TAB> offers %p", async (line, offered) => {
    const got = await fishComplete(line);
    if (line.endsWith("--status q")) expect(got.some((g) => g.endsWith("queued"))).toBe(true);
    else expect(got.sort()).toEqual(offered);
  });

  test("a command's flags, with their help", async () => {
    const proc = Bun.spawn([fish!, "--no-config", "-c", `source ${scripts.fish}; complete -C 'foreman jobs submit --'`], { stdout: "pipe" });
    const out = await new Response(proc.stdout).text();
    expect(out).toContain("--wait\twait for the job to end and print its answer");
    expect(out).not.toContain("--interval");
  });
});
