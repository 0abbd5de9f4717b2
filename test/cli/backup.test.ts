// `foreman backup`: a consistent copy while foreman keeps writing — jobs are being submitted
// and run during the copy — that opens, passes SQLite's integrity check and holds every job
// committed before it began. The image test runs it inside the FROM scratch container. Batch
// files go with it (PATH.files/), and a foreman restored from the copy serves them.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI, { toFile } from "openai";
import { ForemanClient } from "../../clients/ts/index.ts";
import { startForeman } from "../../src/server.ts";
import { BUN, MAIN, startStack, tempDir, testConfig, waitFor, type Stack } from "../harness.ts";

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
    expect(r.stdout).toMatch(new RegExp(`^copied .*foreman\\.db to .*copy\\.db: \\d+ jobs, [\\d.]+ [KM]B, \\d+ batch files? \\([\\d.]+ [KM]?B\\) in .*copy\\.db\\.files, integrity ok\\n$`));
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

  test("batch files go into PATH.files, checked; a foreman restored from the copy serves them and the batch's results", async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const line = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: id }] } });
    const input = `${line("a")}\n${line("b")}\n`;
    const file = await openai.files.create({ file: await toFile(Buffer.from(input), "in.jsonl"), purpose: "batch" });
    const gone = await openai.files.create({ file: await toFile(Buffer.from(`${line("c")}\n`), "gone.jsonl"), purpose: "batch" });
    const batch = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const ended = await waitFor(async () => {
      const b = await openai.batches.retrieve(batch.id);
      return b.status === "completed" && b;
    }, { what: "the batch to complete", timeoutMs: 20_000, intervalMs: 20 });
    const output = await (await openai.files.content(ended.output_file_id!)).text();
    await openai.files.delete(gone.id);

    const dest = join(out.path, "with-files.db");
    // an older copy's folder is refused like the file, and replaced with --force
    writeFileSync(join(out.path, "stale"), "");
    cpSync(join(out.path, "stale"), join(out.path, "with-files.db.files", "file-stale"));
    const refused = await foreman(["backup", dest, "--db", database()]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`foreman backup: ${dest}.files exists; name a new file, or --force to replace it (see foreman backup --help)\n`);
    const r = await foreman(["backup", dest, "--db", database(), "--force"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const copy = new Database(dest, { readonly: true });
    const rows = copy.query<{ id: string }, []>("SELECT id FROM files ORDER BY id").all().map((f) => f.id);
    copy.close();
    expect(rows).toContain(file.id);
    expect(rows).toContain(ended.output_file_id!);
    expect(rows).not.toContain(gone.id);
    // exactly the files the copy names: none missing, nothing extra (the stale one went with --force)
    expect(readdirSync(`${dest}.files`).sort()).toEqual(rows);
    expect(r.stdout).toContain(`, ${rows.length} batch files (`);

    // restore as the docs say: the copy as foreman.db, its folder as files/ beside it
    const restored = tempDir("foreman-restored-");
    cpSync(dest, join(restored.path, "foreman.db"));
    cpSync(`${dest}.files`, join(restored.path, "files"), { recursive: true });
    const second = await startForeman(testConfig({ target: stack.sim.url }, restored.path));
    try {
      const back = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: "none" });
      expect(await (await back.files.content(file.id)).text()).toBe(input);
      expect((await back.batches.retrieve(batch.id)).output_file_id).toBe(ended.output_file_id);
      expect(await (await back.files.content(ended.output_file_id!)).text()).toBe(output);
    } finally {
      await second.stop();
      restored.remove();
    }
  });

  test("a batch file that no longer matches its record fails the backup (exit 1), naming the file", async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const file = await openai.files.create({ file: await toFile(Buffer.from("{}\n"), "x.jsonl"), purpose: "batch" });
    writeFileSync(stack.foreman.services.files.path(file.id), "{}\n{}\n");
    const r = await foreman(["backup", join(out.path, "bad.db"), "--db", database()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`foreman backup: batch file ${file.id} does not match its record (size or SHA-256): ${stack.foreman.services.files.path(file.id)}\n`);
    await openai.files.delete(file.id);
  });
});
