// Where foreman's database is when nothing configures it: the per-user data directory (so the
// queue is the same from any working directory), or ./data/foreman.db where an older foreman
// left one (kept, and said once); `foreman status` and `foreman backup` follow the same rule.
// Real processes, started from an empty working directory with their own HOME.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { BUN, listeningUrl, MAIN, tempDir, waitFor } from "../harness.ts";

setDefaultTimeout(30_000);

/** The environment without anything that would configure the database or the address. */
function cleanEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith("FOREMAN_") && k !== "XDG_DATA_HOME") env[k] = v;
  return { ...env, HOME: home, FOREMAN_TARGET: "http://127.0.0.1:9", FOREMAN_PORT: "0" };
}

async function serveIn(cwd: string, home: string, args: string[] = []) {
  const proc = Bun.spawn([BUN, MAIN, "serve", ...args], { cwd, env: cleanEnv(home), stdout: "pipe", stderr: "pipe" });
  const log: string[] = [];
  const url = await listeningUrl(proc.stderr, log);
  const lines = () => log.join("").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { proc, url, lines, stop: async () => (proc.kill("SIGTERM"), proc.exited) };
}

async function cli(cwd: string, home: string, args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { cwd, env: { ...cleanEnv(home), ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("the default database", () => {
  test("from any working directory: the per-user data directory, on loopback; /status and `foreman status` name it; `foreman backup` follows", async () => {
    const home = tempDir();
    const cwd = tempDir();
    const elsewhere = tempDir();
    try {
      const db = join(home.path, ".local/share/foreman/foreman.db");
      const foreman = await serveIn(cwd.path, home.path);
      try {
        const listening = foreman.lines().find((l) => l.msg === "foreman listening")!;
        expect(listening).toMatchObject({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), db });
        expect(listening.local).toBeUndefined();
        expect(existsSync(db)).toBe(true);
        expect(existsSync(join(cwd.path, "data"))).toBe(false);
        const status = (await (await fetch(`${foreman.url}/status`)).json()) as { database: string };
        expect(status.database).toBe(db);
        const screen = await cli(elsewhere.path, home.path, ["status"], { FOREMAN_URL: foreman.url });
        expect(screen.stdout).toContain(`\ndatabase  ${db}\n`);
        // the backup, from another directory, copies that same database
        const backup = await cli(elsewhere.path, home.path, ["backup", "copy.db"]);
        expect(backup.stderr).toBe("");
        expect(backup.stdout).toStartWith(`copied ${db} to copy.db: 0 jobs`);
      } finally {
        expect(await foreman.stop()).toBe(0);
      }
    } finally {
      for (const d of [home, cwd, elsewhere]) d.remove();
    }
  });

  test("an existing ./data/foreman.db is kept in use when nothing is configured, and said once; backup copies it", async () => {
    const home = tempDir();
    const cwd = tempDir();
    try {
      mkdirSync(join(cwd.path, "data"));
      const legacy = new Database(join(cwd.path, "data/foreman.db"));
      legacy.exec("CREATE TABLE marker (x)");
      legacy.close();
      const foreman = await serveIn(cwd.path, home.path);
      try {
        expect(foreman.lines().find((l) => l.msg === "foreman listening")).toMatchObject({ db: "./data/foreman.db" });
        const notice = (l: Record<string, unknown>) => String(l.msg).startsWith("using the database in the working directory");
        await waitFor(() => foreman.lines().some(notice), { what: "the notice about ./data/foreman.db" });
        const status = (await (await fetch(`${foreman.url}/status`)).json()) as { database: string };
        const notices = foreman.lines().filter(notice);
        expect(notices).toHaveLength(1);
        expect(notices[0]).toMatchObject({ level: "warn" });
        expect(String(notices[0]!.msg)).toContain(join(home.path, ".local/share/foreman/foreman.db"));
        expect(status.database).toBe(join(cwd.path, "data/foreman.db"));
        expect(existsSync(join(home.path, ".local/share/foreman"))).toBe(false);
        const backup = await cli(cwd.path, home.path, ["backup", "copy.db"]);
        expect(backup.stdout).toStartWith("copied ./data/foreman.db to copy.db");
      } finally {
        expect(await foreman.stop()).toBe(0);
      }
    } finally {
      home.remove();
      cwd.remove();
    }
  });

  test("backup with no database at the default says so and how to name one", async () => {
    const home = tempDir();
    try {
      const r = await cli(home.path, home.path, ["backup", "copy.db"]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`foreman backup: no database at ${join(home.path, ".local/share/foreman/foreman.db")} (the default; name foreman's with --db or FOREMAN_DB)`);
    } finally {
      home.remove();
    }
  });
});

describe("the listening line names the address bound", () => {
  test("0.0.0.0: the line says 0.0.0.0, and where this machine reaches it", async () => {
    const home = tempDir();
    try {
      const foreman = await serveIn(home.path, home.path, ["--host", "0.0.0.0"]);
      try {
        const listening = foreman.lines().find((l) => l.msg === "foreman listening")!;
        expect(listening.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
        expect(listening.local).toBe(String(listening.url).replace("0.0.0.0", "127.0.0.1"));
      } finally {
        await foreman.stop();
      }
    } finally {
      home.remove();
    }
  });
});
