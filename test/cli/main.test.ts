import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { VERSION } from "../../src/ops/version.ts";
import { BUN, listeningUrl, MAIN, tempDir } from "../helpers.ts";

async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("foreman CLI", () => {
  test("--version prints the version", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(VERSION);
  });

  test("--help prints every option with its default", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("FOREMAN_TARGET");
    expect(r.stdout).toContain("default http://127.0.0.1:11434");
    expect(r.stdout).toContain("FOREMAN_PORT");
    expect(r.stdout).toContain("default 8080");
  });

  test.each([
    [{ FOREMAN_PORT: "abc" }, "FOREMAN_PORT"],
    [{ FOREMAN_TARGET: "not a url" }, "FOREMAN_TARGET"],
  ])("bad configuration %p exits non-zero with one line naming the variable, no stack trace", async (env, name) => {
    const r = await run([], env);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(name);
    expect(r.stderr).not.toContain("    at ");
  });

  test("serve starts on port 0, answers /healthz, and stops cleanly on SIGTERM", async () => {
    const dir = tempDir();
    const proc = Bun.spawn([BUN, MAIN, "serve", "--port", "0", "--host", "127.0.0.1", "--target", "http://127.0.0.1:9"], {
      env: { ...process.env, FOREMAN_DB: join(dir.path, "f.db") },
      stdout: "pipe",
      stderr: "pipe",
    });
    const url = await listeningUrl(proc.stderr);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    dir.remove();
  });
});
