// Every command of the table answers --help with its own usage and refuses an unknown flag
// with one line and exit 2 — checked for every command in the table, as a person runs them.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { COMMANDS } from "../../src/cli/commands.ts";
import { flagsOf, parseFlags, usage, type CommandSpec } from "../../src/cli/spec.ts";
import { UsageError } from "../../src/cli/exit-codes.ts";
import { options } from "../../src/config.ts";
import { BUN, MAIN } from "../harness.ts";

setDefaultTimeout(60_000);

async function foreman(args: string[]) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...process.env, FOREMAN_URL: "http://127.0.0.1:9" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

/** Every command path in the table: ["jobs", "submit"], ["pull"], … */
function paths(spec: CommandSpec, prefix: string[] = []): { path: string[]; spec: CommandSpec }[] {
  return (spec.commands ?? []).flatMap((c) => [{ path: [...prefix, c.name], spec: c }, ...paths(c, [...prefix, c.name])]);
}
const all = paths(COMMANDS);

describe("--help", () => {
  test.each(all.map(({ path }) => [path.join(" ")]))("foreman %s --help prints its own usage and exits 0", async (words) => {
    const path = words.split(" ");
    const { spec } = all.find((c) => c.path.join(" ") === words)!;
    const r = await foreman([...path, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(usage(spec, path));
    expect(r.stdout).toStartWith(`Usage: foreman ${words}`);
    for (const flag of flagsOf(spec)) expect(r.stdout).toContain(`--${flag.name}`);
  });

  test("jobs submit --help is submit's, not the general help; -h works too", async () => {
    const r = await foreman(["jobs", "submit", "-h"]);
    expect(r.stdout).toStartWith("Usage: foreman jobs submit [options]");
    expect(r.stdout).toContain("--idempotency-key K");
    expect(r.stdout).not.toContain("Commands:");
  });

  test("healthcheck --help prints its usage instead of running the check", async () => {
    const r = await foreman(["healthcheck", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("Usage: foreman healthcheck [options]");
  });

  test("sim --help lists the fault switches", async () => {
    const r = await foreman(["sim", "--help"]);
    for (const fault of ["asleep", "wakeAfterMs", "hung", "firstByteDelayMs", "errorBeforeFirstByte", "errorMidStream", "busy", "failLoad", "endless"]) expect(r.stdout).toContain(`  ${fault} `);
    expect(r.stdout).toContain("POST /_sim/faults");
  });

  test("foreman --help and serve --help list every setting with its variable and default", async () => {
    for (const args of [["--help"], ["serve", "--help"], ["help", "serve"]]) {
      const r = await foreman(args);
      expect(r.code).toBe(0);
      for (const o of Object.values(options)) {
        expect(r.stdout).toContain(o.flag);
        expect(r.stdout).toContain(o.env);
      }
      expect(r.stdout).toContain("default http://127.0.0.1:11434");
    }
  });

  test("help COMMAND is COMMAND --help; the general help lists every command", async () => {
    expect((await foreman(["help", "jobs", "ls"])).stdout).toBe((await foreman(["jobs", "ls", "--help"])).stdout);
    const general = await foreman(["--help"]);
    // a command's aliases beside its name: "models, list, ls"
    for (const c of COMMANDS.commands!) expect(general.stdout).toMatch(new RegExp(`^  ${[c.name, ...(c.aliases ?? [])].join(", ")} +${c.summary.replace(/[()|.?*+[\]\\^$]/g, "\\$&")}$`, "m"));
  });
});

describe("unknown flags", () => {
  test.each(all.filter(({ spec }) => spec.run).map(({ path }) => [path.join(" ")]))("foreman %s --bogus: one line naming it, exit 2", async (words) => {
    const r = await foreman([...words.split(" "), "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`foreman ${words}: unknown flag --bogus (see foreman ${words} --help)\n`);
  });

  test("an unknown command is one line too", async () => {
    expect((await foreman(["frobnicate"])).stderr).toBe('foreman: unknown command "frobnicate" (see foreman --help)\n');
  });
});

describe("parseFlags", () => {
  const spec: CommandSpec = {
    name: "t",
    summary: "",
    args: "A [B]",
    arity: [1, 2],
    flags: [
      { name: "n", value: "N", help: "" },
      { name: "m", value: "M", multiple: true, help: "" },
      { name: "json", short: "j", help: "" },
    ],
  };
  test("values, switches, repeats, = and -- ", () => {
    expect(parseFlags(spec, ["a", "--n", "-3", "--m=x", "--m", "y", "-j", "--", "--b"])).toEqual({ values: { n: "-3", m: ["x", "y"], json: true }, positionals: ["a", "--b"] });
  });
  test.each([
    [["--n"], "--n needs a value (N)"],
    [["a", "--json=1"], "--json takes no value"],
    [["a", "-x"], "unknown flag -x"],
    [[], "missing A [B]"],
    [["a", "b", "c"], "too many arguments (expected A [B])"],
  ])("%p is a usage error", (args, message) => {
    expect(() => parseFlags(spec, args)).toThrow(new UsageError(message));
  });
});
