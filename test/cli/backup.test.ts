// `foreman backup`: a consistent copy while foreman keeps writing — jobs are being submitted
// and run during the copy — that opens, passes SQLite's integrity check and holds every job
// committed before it began. The image test runs it inside the FROM scratch container.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ForemanClient } from "../../clients/ts/index.ts";
import { BUN, MAIN, startStack, tempDir, type Stack } from "../harness.ts";

setDefaultTimeout(60_000);

let stack: Stack;
let client: ForemanClient;
const out = tempDir("foreman-backup-");

beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 1, loadMs: 1 } });
  client = new ForemanClient({ baseUrl: stack.url });
});

afterAll(async () => {
  await stack.stop();
  out.remove();
});

const database = () => join(stack.foreman.dir, "foreman.db");

async function foreman(args: string[]) {
  const proc = Bun.spawn([BUN, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

describe("foreman backup", () => {
  test("while jobs are being written: the copy opens, is whole, and has every job committed before it began", async () => {
    const committed: string[] = [];
    for (let i = 0; i < 50; i++) committed.push((await client.submit({ request: { model: "llama3.2", prompt: `before ${i}` }, endpoint: "/api/generate" })).id);
    // keep writing during the copy: submissions, and the worker running them (state changes, artifacts)
    let writing = true;
    const during: string[] = [];
    const writer = (async () => {
      for (let i = 0; writing; i++) during.push((await client.submit({ request: { model: i % 2 ? "llama3.2" : "mistral", prompt: `during ${i}` }, endpoint: "/api/generate" })).id);
    })();
    const dest = join(out.path, "copy.db");
    const r = await foreman(["backup", dest, "--db", database()]);
    writing = false;
    await writer;
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^copied .*foreman\\.db to .*copy\\.db: \\d+ jobs, [\\d.]+ [KM]B, integrity ok\\n$`));
    expect(during.length).toBeGreaterThan(0);

    const copy = new Database(dest, { readonly: true });
    try {
      expect(copy.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
      const ids = new Set(copy.query<{ id: string }, []>("SELECT id FROM jobs").all().map((j) => j.id));
      expect(committed.filter((id) => !ids.has(id))).toEqual([]);
      expect(Number(/: (\d+) jobs/.exec(r.stdout)![1])).toBe(ids.size);
      // the same schema version as the live database
      const live = new Database(database(), { readonly: true });
      expect(copy.query("PRAGMA user_version").get()).toEqual(live.query("PRAGMA user_version").get());
      live.close();
    } finally {
      copy.close();
    }
    // foreman kept working through it
    expect((await client.wait(during.at(-1)!)).status).toBe("done");
  });

  test("an existing file is refused unless --force; an unreadable database exits 1; each one line", async () => {
    const dest = join(out.path, "again.db");
    expect((await foreman(["backup", dest, "--db", database()])).code).toBe(0);
    const refused = await foreman(["backup", dest, "--db", database()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`foreman backup: ${dest} exists; name a new file, or --force to replace it (see foreman backup --help)\n`);
    expect((await foreman(["backup", dest, "--db", database(), "--force"])).code).toBe(0);

    const missing = await foreman(["backup", join(out.path, "x.db"), "--db", join(out.path, "no", "such.db")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`foreman backup: no database at ${join(out.path, "no", "such.db")}\n`);
    expect(missing.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(out.path, "x.db"))).toBe(false);
  });
});
