import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { VERSION } from "../src/ops/version.ts";
import { BUN, listeningUrl, MAIN, spawnForeman, tempDir } from "./harness.ts";

async function run(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("foreman CLI", () => {
  test("--version says which foreman this is (other programs share the name)", async () => {
    const r = await run(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`foreman ${VERSION} — queue in front of Ollama`);
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

  test("a second foreman on a port already in use refuses to start: one line naming the address, non-zero exit, its database lock released", async () => {
    const dir = tempDir();
    const first = await spawnForeman({ target: "http://127.0.0.1:9", db: join(dir.path, "a.db") });
    try {
      const url = first.url;
      const port = new URL(url).port;
      const started = performance.now();
      const second = await run(["serve", "--port", port, "--host", "127.0.0.1", "--target", "http://127.0.0.1:9", "--db", join(dir.path, "b.db"), "--log-level", "error"]);
      expect(second.code).toBe(1);
      const lines = second.stderr.trim().split("\n");
      expect(lines).toEqual([`foreman: cannot listen on 127.0.0.1:${port}: the address is already in use (another foreman, or another program, holds it)`]);
      // it exited on its own, promptly: nothing (timer, socket) was left running
      expect(performance.now() - started).toBeLessThan(10_000);
      // the first one still owns the port: every request reaches it
      for (let i = 0; i < 20; i++) expect((await fetch(`${url}/healthz`)).status).toBe(200);
      // and the second one's database lock was released: a third start on it works
      const third = await spawnForeman({ target: "http://127.0.0.1:9", db: join(dir.path, "b.db") });
      expect(await third.kill("SIGTERM")).toBe(0);
    } finally {
      await first.kill("SIGTERM");
      dir.remove();
    }
  });

  test("a database that cannot be opened stops the start with one line and a non-zero exit", async () => {
    const dir = tempDir();
    // a directory where the database file should be (inside the temporary one, so whatever
    // is made beside it goes when that is removed)
    const db = join(dir.path, "db");
    mkdirSync(db);
    const r = await run(["serve", "--port", "0", "--host", "127.0.0.1", "--target", "http://127.0.0.1:9", "--db", db, "--log-level", "error"]);
    dir.remove();
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`cannot open database ${db}`);
  });
});
