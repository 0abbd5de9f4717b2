// A full disk during a batch upload (issue 19, ADR 0042), on a real full file system: foreman's
// data directory (database and files/) is a small tmpfs filled with ballast. An upload larger
// than the room left — by the openai and Anthropic clients, fetch and curl — is a 507 in the
// caller's dialect that says the disk is full, which the clients do not retry; no file is listed,
// no `.part` is left, foreman goes on serving, and the same upload works once there is room.
// Mounting needs root or a user namespace: as root the tmpfs is mounted here; otherwise this file
// runs itself again under `unshare -rm`; only when neither is possible is it skipped, saying why.
import { describe, expect, test } from "bun:test";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI, { toFile } from "openai";
import { readdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startForeman, type Foreman } from "../../src/server.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { BUN, perTest, tempDir, testConfig } from "../harness.ts";
import { mountTmpfs, tmpfsSupport } from "../store/tmpfs.ts";
import { fileText, requests } from "./batch-bodies.ts";

const IN_NAMESPACE = "FOREMAN_TEST_IN_NAMESPACE";
const TMPFS_BYTES = 16 * 1024 * 1024;
/** What the ballast leaves free: room for the database's writes, not for the upload. */
const ROOM_LEFT = 1024 * 1024;
const UPLOAD_LINES = 20_000; // 2 to 3 MB, as a file or as a message batch

const mode = tmpfsSupport();
if (mode.how !== "here" && process.env[IN_NAMESPACE]) throw new Error("a tmpfs cannot be mounted inside the user namespace");
const start = perTest();

/** foreman on a tmpfs filled so that only ROOM_LEFT is free; `free()` removes the ballast. */
async function onFullDisk() {
  const dir = tempDir();
  start.defer(() => dir.remove());
  mountTmpfs(dir.path, String(TMPFS_BYTES), start.defer);
  const sim = await startSimulator({ tokenDelayMs: 1, loadMs: 5 });
  start.defer(() => sim.stop());
  const foreman: Foreman = await startForeman(testConfig({ target: sim.url }, dir.path));
  start.defer(() => foreman.stop());
  const ballast = join(dir.path, "ballast");
  const { bavail, bsize } = statfsSync(dir.path);
  writeFileSync(ballast, Buffer.alloc(bavail * bsize - ROOM_LEFT));
  const filesDir = foreman.services.files.dir;
  return {
    foreman,
    filesDir,
    free: () => rmSync(ballast),
    /** Nothing of the refused upload: no row, no bytes, no `.part`; foreman still serves. */
    async nothingKept() {
      expect(foreman.services.store.db.query("SELECT COUNT(*) AS n FROM files").get()).toEqual({ n: 0 });
      expect(readdirSync(filesDir)).toEqual([]);
      expect((await fetch(`${foreman.url}/healthz`)).status).toBe(200);
    },
    /** How many times foreman answered `route` with `status` (a client's retries would count). */
    async answered(route: string, status: number) {
      const metrics = await (await fetch(`${foreman.url}/metrics`)).text();
      const line = metrics.split("\n").find((l) => l.startsWith("foreman_http_requests_total{") && l.includes(`route="${route}"`) && l.includes(`status="${status}"`));
      return line ? Number(line.split(" ").pop()) : 0;
    },
  };
}

describe("a full disk during a batch upload", () => {
  if (mode.how === "none") {
    console.warn(`skipped: a tmpfs cannot be mounted on this machine (${mode.why})`);
    test.skip("a full disk during a batch upload (no tmpfs can be mounted)", () => {});
    return;
  }
  if (mode.how === "unshare") {
    test("run again in a user namespace, where a tmpfs can be mounted", () => {
      const r = Bun.spawnSync(["unshare", "-rm", BUN, "test", import.meta.path], { env: { ...process.env, [IN_NAMESPACE]: "1" }, stdout: "pipe", stderr: "pipe" });
      const out = `${r.stdout.toString()}${r.stderr.toString()}`;
      if (r.exitCode !== 0) console.error(out);
      expect(r.exitCode).toBe(0);
      expect(out).not.toContain("skipped");
    }, 120_000);
    return;
  }

  test("openai's files.create: a 507 saying the disk is full, sent once (not retried), nothing kept; a small file fits, and the same file once there is room", async () => {
    const disk = await onFullDisk();
    const client = new OpenAI({ baseURL: `${disk.foreman.url}/v1`, apiKey: "none" }); // the default retries
    const big = fileText(UPLOAD_LINES);
    expect(Buffer.byteLength(big)).toBeGreaterThan(2 * ROOM_LEFT);
    const refused = await client.files.create({ file: await toFile(Buffer.from(big), "big.jsonl"), purpose: "batch" }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused.status).toBe(507);
    expect(refused.message).toContain("disk is full");
    expect(refused.error).toMatchObject({ type: "api_error", message: expect.stringContaining("nothing was kept") });
    expect(await disk.answered("/v1/files", 507)).toBe(1);
    expect((await client.files.list()).data).toEqual([]);
    await disk.nothingKept();
    const small = await client.files.create({ file: await toFile(Buffer.from(fileText(10)), "small.jsonl"), purpose: "batch" });
    expect(small.bytes).toBe(Buffer.byteLength(fileText(10)));
    disk.free();
    const again = await client.files.create({ file: await toFile(Buffer.from(big), "big.jsonl"), purpose: "batch" });
    expect(again.bytes).toBe(Buffer.byteLength(big));
    expect((await client.files.list()).data.map((f) => f.id).sort()).toEqual([small.id, again.id].sort());
  });

  test("curl and fetch: the 507 in OpenAI's envelope, nothing kept", async () => {
    const disk = await onFullDisk();
    const path = join(tempDir().path, "big.jsonl");
    writeFileSync(path, fileText(UPLOAD_LINES));
    // (spawned, not spawnSync: foreman answers from this process's event loop)
    const curl = Bun.spawn(["curl", "-sS", "-w", "\n%{http_code}", "-F", "purpose=batch", "-F", `file=@${path}`, `${disk.foreman.url}/v1/files`], { stdout: "pipe", stderr: "pipe" });
    const [body, code] = (await new Response(curl.stdout).text()).split("\n");
    expect(code).toBe("507");
    expect(JSON.parse(body!).error.message).toContain("disk is full");
    await disk.nothingKept();
    const form = new FormData();
    form.append("purpose", "batch");
    form.append("file", new Blob([fileText(UPLOAD_LINES)]), "big.jsonl");
    const res = await fetch(`${disk.foreman.url}/v1/files`, { method: "POST", body: form });
    expect(res.status).toBe(507);
    expect(res.headers.get("x-should-retry")).toBe("false");
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("disk is full");
    await disk.nothingKept();
    rmSync(path);
  });

  test("an Anthropic message batch: a 507 in Anthropic's dialect, sent once, no batch and nothing kept; it works once there is room", async () => {
    const disk = await onFullDisk();
    const client = new Anthropic({ baseURL: disk.foreman.url, apiKey: "none" }); // the default retries
    expect(JSON.stringify(requests(UPLOAD_LINES)).length).toBeGreaterThan(2 * ROOM_LEFT);
    const refused = await client.messages.batches.create({ requests: requests(UPLOAD_LINES) }).catch((e) => e);
    expect(refused).toBeInstanceOf(Anthropic.APIError);
    expect(refused.status).toBe(507);
    expect(refused.error).toMatchObject({ type: "error", error: { type: "api_error", message: expect.stringContaining("disk is full") } });
    expect(await disk.answered("/v1/messages/batches", 507)).toBe(1);
    expect(disk.foreman.services.store.db.query("SELECT COUNT(*) AS n FROM batches").get()).toEqual({ n: 0 });
    await disk.nothingKept();
    disk.free();
    const batch = await client.messages.batches.create({ requests: requests(UPLOAD_LINES) });
    expect(batch.request_counts.processing).toBe(UPLOAD_LINES);
  });
});
