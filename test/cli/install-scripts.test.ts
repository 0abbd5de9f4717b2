// `npm start` and `npm test` with install scripts off (`npm ci --ignore-scripts`, pnpm, a
// policy in .npmrc): the `bun` package's bin/bun.exe is then a placeholder and its binary is
// still in the platform package @oven/bun-<os>-<arch>. A checkout laid out exactly so (the
// placeholder first on PATH, as npm puts node_modules/.bin there) runs both scripts of the real
// package.json through the launcher. CI installs with --ignore-scripts too (.ci/run).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { VERSION_LINE } from "../../src/ops/version.ts";
import { tempDir } from "../harness.ts";

setDefaultTimeout(60_000);

const root = join(import.meta.dir, "..", "..");
const node = Bun.which("node");
const npm = Bun.which("npm");
const dir = tempDir("foreman-noscripts-");
const checkout = dir.path;
const PLACEHOLDER = "#!/bin/sh\necho 'bun: the postinstall script did not run' >&2\nexit 1\n";

beforeAll(() => {
  for (const f of ["package.json", "tsconfig.json", "bunfig.toml"]) cpSync(join(root, f), join(checkout, f));
  cpSync(join(root, "bin"), join(checkout, "bin"), { recursive: true });
  for (const d of ["src", "routes", "jobs", "clients", "test"]) symlinkSync(join(root, d), join(checkout, d));
  const modules = join(checkout, "node_modules");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  const real = join(root, "node_modules");
  for (const name of readdirSync(real)) if (![".bin", "bun", "@oven"].includes(name)) symlinkSync(join(real, name), join(modules, name));
  // the bun package as npm leaves it without its postinstall: a placeholder where the binary goes
  mkdirSync(join(modules, "bun", "bin"), { recursive: true });
  cpSync(join(real, "bun", "package.json"), join(modules, "bun", "package.json"));
  writeFileSync(join(modules, "bun", "bin", "bun.exe"), PLACEHOLDER);
  chmodSync(join(modules, "bun", "bin", "bun.exe"), 0o755);
  symlinkSync("../bun/bin/bun.exe", join(modules, ".bin", "bun"));
  // and the binary still in its platform package
  const platform = join(modules, "@oven", `bun-${process.platform}-${process.arch === "arm64" ? "aarch64" : "x64"}`);
  mkdirSync(join(platform, "bin"), { recursive: true });
  writeFileSync(join(platform, "package.json"), JSON.stringify({ name: `@oven/${platform.split("/").at(-1)}`, version: Bun.version }));
  symlinkSync(process.execPath, join(platform, "bin", "bun"));
  // a test of the kind `npm test` runs: it starts `bun` by name, as the suite does
  writeFileSync(join(checkout, "child.test.ts"), `import { expect, test } from "bun:test";\ntest("bun by name is the real one", () => {\n  const r = Bun.spawnSync(["bun", "--version"]);\n  expect(r.stdout.toString().trim()).toBe(Bun.version);\n});\n`);
});

afterAll(() => dir.remove());

/** npm run in the checkout, with node and npm on PATH and no bun but the placeholder npm adds. */
async function npmRun(args: string[]) {
  const PATH = [...new Set([dirname(node!), dirname(npm!), "/usr/bin", "/bin"])].join(":");
  const proc = Bun.spawn([npm!, ...args], { cwd: checkout, env: { HOME: checkout, PATH, npm_config_update_notifier: "false" }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe.skipIf(!node || !npm)("install scripts off", () => {
  test("the placeholder is what a plain `bun` would run", async () => {
    const r = await npmRun(["exec", "--", "bun", "--version"]);
    expect(r.code).not.toBe(0);
  });

  test("npm start runs foreman", async () => {
    const r = await npmRun(["start", "--silent", "--", "--version"]);
    expect({ stdout: r.stdout, code: r.code }).toEqual({ stdout: `${VERSION_LINE}\n`, code: 0 });
  });

  test("npm test runs bun test, and what it starts as `bun` is the real one", async () => {
    const r = await npmRun(["test", "--silent", "--", "./child.test.ts"]);
    expect(r.stderr).toContain("1 pass");
    expect(r.code).toBe(0);
  });
});
