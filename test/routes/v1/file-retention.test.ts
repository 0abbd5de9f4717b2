// Batch file retention (issue 19): uploads expire 30 days after they are made unless
// expires_after says otherwise, result files follow the batch's output_expires_after; an expired
// file is listed no more and the retention sweep deletes it from disk; a batch is kept as long as
// one of its files. Judged with the real openai package; the sweep is run at a later `now`.
import { describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import { existsSync } from "node:fs";
import { expireFiles } from "../../../src/queue/retention.ts";
import { Batches } from "../../../src/queue/batches.ts";
import { sharedStack, waitFor } from "../../harness.ts";

const line = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: id }] } });
const HOUR = 3_600_000;

describe("batch file retention", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 1, loadMs: 1 } });
  const openai = () => new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none", maxRetries: 0 });
  const sweep = (now: number) => {
    const { queue, files, store } = stack.foreman.services;
    return expireFiles(queue, files, new Batches(store.db), now);
  };
  const listed = async () => (await openai().files.list({ limit: 100 })).data.map((f) => f.id);

  test("expires_after and output_expires_after set expires_at; expired files are listed no more, deleted from disk, then the batch goes", async () => {
    const c = openai();
    const plain = await c.files.create({ file: await toFile(Buffer.from(`${line("p")}\n`), "plain.jsonl"), purpose: "batch" });
    expect(plain.expires_at).toBe(plain.created_at + 2_592_000);
    const input = await c.files.create({ file: await toFile(Buffer.from(`${line("a")}\n`), "in.jsonl"), purpose: "batch", expires_after: { anchor: "created_at", seconds: 3600 } });
    expect(input.expires_at).toBe(input.created_at + 3600);
    const batch = await c.batches.create({ input_file_id: input.id, endpoint: "/v1/chat/completions", completion_window: "24h", output_expires_after: { anchor: "created_at", seconds: 7200 } });
    const ended = await waitFor(async () => {
      const b = await c.batches.retrieve(batch.id);
      return b.status === "completed" && b;
    }, { what: "the batch to complete" });
    const output = await c.files.retrieve(ended.output_file_id!);
    expect(output.expires_at).toBe(output.created_at + 7200);
    const { files } = stack.foreman.services;

    // nothing is due yet
    expect(await sweep(Date.now())).toEqual({ files: 0, batches: 0 });
    // past the input's hour: gone from the listing, the API and the disk; the batch stays for its output
    const inputPath = files.path(input.id);
    expect(existsSync(inputPath)).toBe(true);
    expect(await sweep(Date.now() + HOUR + 1000)).toEqual({ files: 1, batches: 0 });
    expect(existsSync(inputPath)).toBe(false);
    expect(await listed()).not.toContain(input.id);
    expect(await c.files.retrieve(input.id).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    expect((await c.batches.retrieve(batch.id)).output_file_id).toBe(output.id);
    expect(await (await c.files.content(output.id)).text()).toContain('"custom_id":"a"');
    // past the output's two hours: the output goes, and the batch with it (none of its files is left)
    expect(await sweep(Date.now() + 2 * HOUR + 1000)).toEqual({ files: 1, batches: 1 });
    expect(existsSync(files.path(output.id))).toBe(false);
    expect(await c.batches.retrieve(batch.id).catch((e) => e)).toBeInstanceOf(OpenAI.NotFoundError);
    // the upload without expires_after is kept its 30 days
    expect(await listed()).toContain(plain.id);
    expect(await sweep(Date.now() + 30 * 24 * HOUR + 1000)).toMatchObject({ files: 1 });
    expect(await listed()).not.toContain(plain.id);
  });

  test("an expiry outside 1 hour to 30 days, or another anchor, is a 400 naming the field; nothing is stored", async () => {
    const c = openai();
    const before = await listed();
    const short = await c.files.create({ file: await toFile(Buffer.from(`${line("a")}\n`), "x.jsonl"), purpose: "batch", expires_after: { anchor: "created_at", seconds: 60 } }).catch((e) => e);
    expect(short).toBeInstanceOf(OpenAI.BadRequestError);
    expect(short.error.param).toBe("expires_after.seconds");
    const anchor = await c.files.create({ file: await toFile(Buffer.from(`${line("a")}\n`), "x.jsonl"), purpose: "batch", expires_after: { anchor: "last_active_at" as "created_at", seconds: 3600 } }).catch((e) => e);
    expect(anchor).toBeInstanceOf(OpenAI.BadRequestError);
    expect(anchor.error.param).toBe("expires_after.anchor");
    expect(await listed()).toEqual(before);
    const file = await c.files.create({ file: await toFile(Buffer.from(`${line("a")}\n`), "x.jsonl"), purpose: "batch" });
    const long = await c.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h", output_expires_after: { anchor: "created_at", seconds: 3_000_000 } }).catch((e) => e);
    expect(long).toBeInstanceOf(OpenAI.BadRequestError);
    expect(long.error.param).toBe("output_expires_after.seconds");
  });
});
