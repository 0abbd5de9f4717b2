// Batches on /status, `foreman status` and /metrics (issue 19): batches by status, the lines of
// those running by state, the progress of the batch on the target, and the lines a completion
// window ended before they ran — read from a real foreman running a real batch.
import { describe, expect, test } from "bun:test";
import OpenAI, { toFile } from "openai";
import type { Status } from "../../../clients/ts/types.ts";
import { ForemanClient } from "../../../clients/ts/index.ts";
import { runCli, sharedStack, waitFor } from "../../harness.ts";

const line = (id: string) => JSON.stringify({ custom_id: id, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: id }] } });
const jsonl = (ids: string[]) => `${ids.map(line).join("\n")}\n`;
/** One sample of a scrape: the value of `name{labels}` (labels as written, in order). */
const sample = (text: string, series: string): number | undefined => {
  const found = text.split("\n").find((l) => l.startsWith(`${series} `));
  return found === undefined ? undefined : Number(found.slice(series.length + 1));
};

describe("batches on /status and /metrics", () => {
  const stack = sharedStack({ sim: { tokenDelayMs: 2, loadMs: 1 } });
  const status = async () => (await (await fetch(`${stack.url}/status`)).json()) as Status;
  const metrics = async () => (await fetch(`${stack.url}/metrics`)).text();

  test("the running batch's progress and its lines by state; batches by status; foreman status shows them", async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const before = await status();
    expect(before.batches).toEqual({ by_status: { validating: 0, failed: 0, in_progress: 0, finalizing: 0, completed: 0, expired: 0, cancelling: 0, cancelled: 0 }, lines: { queued: 0, loading: 0, working: 0, done: 0, failed: 0, canceled: 0 }, running: null });
    expect(sample(await metrics(), 'foreman_batches{status="in_progress"}')).toBe(0);

    await stack.sim.setFaults({ endless: true }); // the first line holds the target
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl(["a", "b", "c"])), "in.jsonl"), purpose: "batch" });
    const batch = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" });
    const s = await waitFor(async () => {
      const now = await status();
      return now.batches.running?.id === batch.id && now.worker.state === "working" && now;
    }, { what: "a line of the batch on the target" });
    expect(s.batches.running).toEqual({ id: batch.id, status: "in_progress", model: "llama3.2", total: 3, completed: 0, failed: 0, unfinished: 3 });
    expect(s.batches.lines).toEqual({ queued: 2, loading: 0, working: 1, done: 0, failed: 0, canceled: 0 });
    expect(s.batches.by_status.in_progress).toBe(1);
    const scrape = await metrics();
    expect(sample(scrape, 'foreman_batches{status="in_progress"}')).toBe(1);
    expect(sample(scrape, 'foreman_batch_lines{state="queued"}')).toBe(2);
    expect(sample(scrape, 'foreman_batch_lines{state="working"}')).toBe(1);
    const screen = await runCli(stack.url, ["status"]);
    expect(screen.stdout).toContain(`batches   1 in_progress; lines 2 queued, 1 working\n          running ${batch.id} (llama3.2): 0 of 3 lines ended, 0 failed\n`);

    await stack.sim.setFaults({ endless: false });
    await openai.batches.cancel(batch.id);
    await waitFor(async () => (await openai.batches.retrieve(batch.id)).status === "cancelled", { what: "the batch cancelled" });
    const after = await status();
    expect(after.batches.by_status.cancelled).toBe(1);
    expect(after.batches.by_status.in_progress).toBe(0);
    expect(after.batches.running).toBeNull();
    expect(sample(await metrics(), 'foreman_batch_lines{state="queued"}')).toBe(0);
  });

  test("lines a window ended before they ran are counted: foreman_batch_lines_expired_total", async () => {
    const openai = new OpenAI({ baseURL: `${stack.url}/v1`, apiKey: "none" });
    const jobs = new ForemanClient({ baseUrl: stack.url });
    const expiredBefore = sample(await metrics(), "foreman_batch_lines_expired_total")!;
    await stack.sim.setFaults({ endless: true });
    const holder = await jobs.submit({ request: { model: "llama3.2", prompt: "loop" }, endpoint: "/api/generate" });
    await waitFor(async () => (await jobs.get(holder.id)).status === "working", { what: "the holder to run" });
    const file = await openai.files.create({ file: await toFile(Buffer.from(jsonl(["x", "y"])), "in.jsonl"), purpose: "batch" });
    const late = await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "1s" as "24h" }); // foreman takes any duration
    await waitFor(async () => (await openai.batches.retrieve(late.id)).status === "expired", { what: "the batch expired" });
    await waitFor(async () => sample(await metrics(), "foreman_batch_lines_expired_total") === expiredBefore + 2, { what: "the expired lines counted" });
    expect(sample(await metrics(), 'foreman_batches{status="expired"}')).toBe(1);
    await stack.sim.setFaults({ endless: false });
    await jobs.cancel(holder.id);
  });
});
