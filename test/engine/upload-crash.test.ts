// A half-uploaded file never becomes a usable file (issue 19, ADR 0042): foreman (a real child
// process) is SIGKILLed while a large upload trickles in — a batch file, then a message batch —
// and started again on the same data directory. What it was writing is only a `.part`, which the
// start removes; nothing is listed, no batch can name it, and uploads work again.
import { expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { startSimulator } from "../../src/sim/index.ts";
import { filesDir } from "../../src/store/location.ts";
import { perTest, waitFor, type ForemanProcess } from "../harness.ts";
import { fileText, messageBatch, multipart, MULTIPART, trickle } from "../http/batch-bodies.ts";

const start = perTest();

async function setUp() {
  const sim = await startSimulator({ tokenDelayMs: 1, loadMs: 5 });
  start.defer(() => sim.stop());
  const { db, spawn } = start.restartable(sim.url);
  return { db, files: filesDir(db), spawn };
}

/** Starts a slow upload of `bytes` to `route` and SIGKILLs foreman once part of it is on disk; the `.part` it leaves. */
async function killMidUpload(proc: ForemanProcess, files: string, route: string, contentType: string, bytes: Buffer): Promise<string> {
  const { body, progress } = trickle(bytes, 200, 10);
  const sent = fetch(`${proc.url}${route}`, { method: "POST", headers: { "content-type": contentType }, body }).catch((e: Error) => e);
  const part = await waitFor(
    () => {
      const name = readdirSync(files).find((n) => n.endsWith(".part"));
      return name !== undefined && progress.sent >= 40 && statSync(join(files, name)).size > 0 && join(files, name);
    },
    { what: "the upload to be partly on disk", timeoutMs: 20_000 },
  );
  await proc.kill("SIGKILL");
  expect(progress.sent).toBeLessThan(200);
  expect(await sent).toBeInstanceOf(Error);
  return part;
}

test("SIGKILLed mid-upload of a batch file: after the restart the file is not listed, no batch can use it, the .part is gone, and uploads work again", async () => {
  const { files, spawn } = await setUp();
  const proc = await spawn();
  const part = await killMidUpload(proc, files, "/v1/files", MULTIPART, multipart(fileText(6_000)));
  expect(existsSync(part)).toBe(true); // what the start must clean up
  const again = await spawn();
  expect(existsSync(part)).toBe(false);
  expect(readdirSync(files)).toEqual([]);
  expect(((await (await fetch(`${again.url}/v1/files`)).json()) as { data: unknown[] }).data).toEqual([]);
  const halfId = part.split("/").pop()!.replace(/\.part$/, "");
  for (const id of [halfId, "file-anything"]) {
    const res = await fetch(`${again.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: id, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(id);
    expect((await fetch(`${again.url}/v1/files/${id}/content`)).status).toBe(404);
  }
  const uploaded = await fetch(`${again.url}/v1/files`, { method: "POST", headers: { "content-type": MULTIPART }, body: multipart(fileText(20)) });
  expect(uploaded.status).toBe(200);
  const { id } = (await uploaded.json()) as { id: string };
  const batch = await fetch(`${again.url}/v1/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input_file_id: id, endpoint: "/v1/chat/completions", completion_window: "24h" }) });
  expect(batch.status).toBe(200);
});

test("SIGKILLed mid-body of a message batch: after the restart there is no batch, the .part is gone, and a message batch is accepted again", async () => {
  const { files, spawn } = await setUp();
  const proc = await spawn();
  const part = await killMidUpload(proc, files, "/v1/messages/batches", "application/json", messageBatch(6_000));
  expect(existsSync(part)).toBe(true);
  const again = await spawn();
  expect(readdirSync(files)).toEqual([]);
  expect(((await (await fetch(`${again.url}/v1/messages/batches`)).json()) as { data: unknown[] }).data).toEqual([]);
  const accepted = await fetch(`${again.url}/v1/messages/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: messageBatch(20) });
  expect(accepted.status).toBe(200);
});
