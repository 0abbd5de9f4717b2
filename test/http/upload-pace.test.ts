// Batch uploads (POST /v1/files, POST /v1/messages/batches) against a slow, silent or vanishing
// client, and a database that refuses the file's row (ADR 0042): an upload may take as long as
// it keeps sending — only a pause longer than FOREMAN_BODY_TIMEOUT_MS ends it, with a 408 in the
// caller's dialect — and whatever ends an upload early leaves no file, no row, no `.part`.
import { describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { readdirSync } from "node:fs";
import { stallOnly } from "../../src/http/body.ts";
import { perTest, sharedStack, waitFor, type Stack } from "../harness.ts";
import { storageFaults } from "../store/faults.ts";
import { fileText, messageBatch, multipart, MULTIPART, trickle } from "./batch-bodies.ts";

const kinds = [
  { route: "/v1/files", contentType: MULTIPART, bytes: multipart(fileText(200)), dialect: (b: any) => b.error.message as string },
  { route: "/v1/messages/batches", contentType: "application/json", bytes: messageBatch(200), dialect: (b: any) => (expect(b.type).toBe("error"), b.error.message as string) },
];

/** Nothing of a refused upload is left: no row (listed or not), no `.part`, no file on disk. */
function nothingKept(stack: Stack) {
  const { files, store } = stack.foreman.services;
  expect(store.db.query("SELECT COUNT(*) AS n FROM files").get()).toEqual({ n: 0 });
  expect(readdirSync(files.dir)).toEqual([]);
}

describe("the pace of a batch upload", () => {
  const start = perTest();
  const slowStack = () => start.stack({ foreman: { bodyTimeoutMs: 500 } });

  test("the rule: a batch upload's clock restarts with every chunk; another body's only past its size bound", () => {
    expect(stallOnly("stall", 0, 1000)).toBe(true);
    expect(stallOnly("deadline", 1000, 1000)).toBe(false);
    expect(stallOnly("deadline", 1001, 1000)).toBe(true);
  });

  for (const kind of kinds) {
    test(`${kind.route}: a body that trickles for longer than FOREMAN_BODY_TIMEOUT_MS in all, never pausing that long, is stored`, async () => {
      const stack = await slowStack();
      const { body } = trickle(kind.bytes, 30, 50); // about 1.5 s in all, 50 ms gaps
      const res = await fetch(`${stack.url}${kind.route}`, { method: "POST", headers: { "content-type": kind.contentType }, body });
      expect(res.status).toBe(200);
      const rows = stack.foreman.services.store.db.query("SELECT id, lines FROM files").all() as { id: string; lines: number }[];
      expect(rows.map((r) => r.lines)).toEqual([200]);
    });

    test(`${kind.route}: a pause longer than FOREMAN_BODY_TIMEOUT_MS is a 408 in the caller's dialect, and nothing is kept`, async () => {
      const stack = await slowStack();
      const { body } = trickle(kind.bytes, 10, 20, { at: 5, ms: 2_000 });
      const res = await fetch(`${stack.url}${kind.route}`, { method: "POST", headers: { "content-type": kind.contentType }, body }).catch((e: Error) => e);
      if (res instanceof Error) throw new Error(`the client got no reply: ${res.message}`);
      expect(res.status).toBe(408);
      expect(kind.dialect(await res.json())).toContain("stalled for 500 ms");
      nothingKept(stack);
    });

    test(`${kind.route}: a client that goes away mid-upload leaves no file, no row and no .part`, async () => {
      const stack = await slowStack();
      const client = new AbortController();
      const { body, progress } = trickle(kind.bytes, 40, 30);
      const sent = fetch(`${stack.url}${kind.route}`, { method: "POST", headers: { "content-type": kind.contentType }, body, signal: client.signal }).catch((e: Error) => e);
      const { files } = stack.foreman.services;
      await waitFor(() => progress.sent >= 10 && readdirSync(files.dir).some((n) => n.endsWith(".part")), { what: "the upload to be half on disk" });
      client.abort();
      expect(await sent).toBeInstanceOf(Error);
      await waitFor(() => readdirSync(files.dir).length === 0, { what: "the .part to go" });
      nothingKept(stack);
      // a batch upload never holds the memory budget of bodies read whole
      expect(stack.foreman.services.bodies.used).toBe(0);
    });
  }
});

describe("the file's row refused by the database", () => {
  const stack = sharedStack();

  test("SQLITE_FULL when the uploaded file is recorded: a 503 in OpenAI's envelope, the bytes discarded; the next upload works", async () => {
    const faults = storageFaults(stack.foreman.services.store.db);
    faults.fail({ file: true });
    const client = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", maxRetries: 0 });
    const refused = await client.files.create({ file: await toFile(Buffer.from(fileText(50)), "in.jsonl"), purpose: "batch" }).catch((e) => e);
    expect(refused).toBeInstanceOf(OpenAI.APIError);
    expect(refused.status).toBe(503);
    expect(refused.message).toContain("SQLITE_FULL");
    nothingKept(stack);
    faults.clear();
    const file = await client.files.create({ file: await toFile(Buffer.from(fileText(50)), "in.jsonl"), purpose: "batch" });
    expect(readdirSync(stack.foreman.services.files.dir)).toEqual([file.id]);
  });

  test("SQLITE_FULL when a message batch's requests are recorded: a 503 in Anthropic's dialect, the bytes discarded", async () => {
    const { files, store } = stack.foreman.services;
    const before = readdirSync(files.dir);
    const faults = storageFaults(store.db);
    faults.fail({ file: true });
    const res = await fetch(`${stack.url}/v1/messages/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: messageBatch(20) });
    faults.clear();
    expect(res.status).toBe(503);
    const body = (await res.json()) as { type: string; error: { message: string } };
    expect(body.type).toBe("error");
    expect(body.error.message).toContain("SQLITE_FULL");
    expect(readdirSync(files.dir)).toEqual(before);
    expect(store.db.query("SELECT COUNT(*) AS n FROM batches").get()).toEqual({ n: 0 });
  });

  test("SQLITE_FULL when a message batch's row is written, its requests already saved: a 503, and the requests file goes too", async () => {
    const { files, store } = stack.foreman.services;
    const before = readdirSync(files.dir);
    const rows = store.db.query("SELECT COUNT(*) AS n FROM files").get();
    const faults = storageFaults(store.db);
    faults.fail({ newBatch: true });
    const res = await fetch(`${stack.url}/v1/messages/batches`, { method: "POST", headers: { "content-type": "application/json" }, body: messageBatch(20) });
    faults.clear();
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("SQLITE_FULL");
    expect(readdirSync(files.dir)).toEqual(before);
    expect(store.db.query("SELECT COUNT(*) AS n FROM files").get()).toEqual(rows);
    expect(store.db.query("SELECT COUNT(*) AS n FROM batches").get()).toEqual({ n: 0 });
  });
});
