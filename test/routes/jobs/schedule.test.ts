// POST /jobs with run_after, start_by and max_run (ADR 0035), against real foreman servers and
// the simulator: bad values refused naming the field; a job past its start_by canceled as
// expired while the worker is busy or the target asleep, with its event and webhook, never
// reaching the target; a scheduled start that survives a restart and runs once when due; a
// looping stream stopped at the run-time cap in both lanes.
import { describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { startForeman } from "../../../src/server.ts";
import { createLogger } from "../../../src/ops/log.ts";
import { chatRequest, getJob, perTest, postJob, tempDir, testConfig, waitFor } from "../../harness.ts";
import { startReceiver } from "../../webhooks/receiver.ts";

const start = perTest();

const chatRequests = (counters: { requests: Record<string, number> }) => counters.requests["POST /api/chat"] ?? 0;

async function metric(url: string, series: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("bad values are a 400 naming the field", () => {
  test.each([
    [{ run_after: "tonight" }, "/run_after"],
    [{ run_after: "9000h" }, "/run_after"],
    [{ run_after: 3600 }, "/run_after"],
    [{ start_by: "2020-01-01T00:00:00Z" }, "/start_by"],
    [{ run_after: "2h", start_by: "1h" }, "/start_by"],
    [{ start_by: "" }, "/start_by"],
    [{ max_run: "-10m" }, "/max_run"],
    [{ max_run: "10 minutes" }, "/max_run"],
    [{ max_run: 600 }, "/max_run"],
  ])("%j", async (fields, field) => {
    const { foreman } = await start.stack();
    const { status, raw } = await postJob(foreman.url, { request: chatRequest(), ...fields });
    expect(status).toBe(400);
    expect((raw as { error: { field: string; message: string } }).error).toMatchObject({ status: 400, field, message: expect.stringContaining(field) });
    expect(foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs").get()).toEqual({ n: 0 });
  });
});

test("the job view shows run_after, start_by and max_run; retry_at stays for back-offs", async () => {
  const { url } = await start.stack();
  const { status, job } = await postJob(url, { request: chatRequest(), run_after: "2026-12-31T23:00:00+01:00", start_by: "2027-01-01T06:00:00Z", max_run: "90m" });
  expect(status).toBe(202);
  expect(job).toMatchObject({ status: "queued", run_after: "2026-12-31T22:00:00.000Z", start_by: "2027-01-01T06:00:00.000Z", max_run: "1h30m0s", retry_at: null });
  const plain = await postJob(url, { request: chatRequest() });
  expect(plain.job).toMatchObject({ run_after: null, start_by: null, max_run: null, retry_at: null });
  await getJob(url, plain.job.id, 10);
  // still waiting for its time: the scheduled one did not run
  expect((await getJob(url, job.id)).status).toBe("queued");
});

test("a job whose start_by passes while another holds the worker ends canceled/expired, with its event and webhook, and never reaches the target", async () => {
  const receiver = startReceiver();
  start.defer(() => receiver.stop());
  const { sim, url, foreman } = await start.stack({ sim: { tokenDelayMs: 20, faults: { endless: true } } });
  const busy = await postJob(url, { request: chatRequest(), max_run: "0s" });
  await waitFor(async () => (await getJob(url, busy.job.id)).status === "working", { what: "the looping job to hold the worker" });
  const late = await postJob(url, { request: chatRequest("llama3.2", "too late"), start_by: "300ms", webhook: receiver.url });
  expect(late.status).toBe(202);
  const hook = (await receiver.until((r) => r.some((d) => d.json.type === "job.canceled"))).find((d) => d.json.type === "job.canceled");
  expect(hook!.json.data).toMatchObject({ id: late.job.id, status: "canceled", reason: "expired", started_at: null, attempts: 0 });
  const view = await getJob(url, late.job.id);
  expect(view).toMatchObject({ status: "canceled", reason: "expired", attempts: 0, started_at: null });
  const events = await (await fetch(`${url}/jobs/${late.job.id}/events`)).text();
  expect(events).toContain("event: job.canceled");
  expect(events).toMatch(/"reason":"expired"/);
  // only the looping job ever reached the simulator
  expect(chatRequests(sim.counters)).toBe(1);
  expect(await metric(url, 'foreman_jobs_ended_by_limit_total{lane="async",reason="expired"}')).toBe(1);
  // and it stays that way once the worker is free
  await fetch(`${url}/jobs/${busy.job.id}/cancel`, { method: "POST" });
  await waitFor(async () => (await getJob(url, busy.job.id)).status === "canceled", { what: "the looping job to end on cancel" });
  await waitFor(() => foreman.services.worker.state.kind === "idle", { what: "the worker to go idle" });
  expect(chatRequests(sim.counters)).toBe(1);
});

test("a job expires at its start_by while the target is asleep", async () => {
  const { sim, url, foreman } = await start.stack({ sim: { faults: { asleep: true } }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 500 } });
  await waitFor(() => foreman.services.poller.up === false, { what: "the poller to see the target down" });
  const { job } = await postJob(url, { request: chatRequest(), start_by: "200ms" });
  await waitFor(async () => (await getJob(url, job.id)).status === "canceled", { what: "the job to expire with the target asleep" });
  expect((await getJob(url, job.id)).reason).toBe("expired");
  await sim.setFaults({ asleep: false });
  await waitFor(() => foreman.services.poller.up === true, { what: "the target back" });
  expect(chatRequests(sim.counters)).toBe(0);
});

test("a scheduled start survives a restart: a new foreman on the same database runs it once, when due", async () => {
  const { sim } = await start.stack();
  const dir = tempDir();
  start.defer(() => dir.remove());
  const config = testConfig({ target: sim.url }, dir.path);
  const first = await startForeman(config);
  const { job } = await postJob(first.url, { request: chatRequest(), run_after: "1500ms" });
  const due = Date.parse(job.run_after!);
  await first.stop();
  expect(chatRequests(sim.counters)).toBe(0);
  const second = await startForeman(config);
  start.defer(() => second.stop());
  const done = await waitFor(async () => {
    const view = await getJob(second.url, job.id, 5);
    return view.status === "done" && view;
  }, { what: "the scheduled job to run on the new foreman" });
  expect(Date.parse(done.started_at!)).toBeGreaterThanOrEqual(due);
  expect(done).toMatchObject({ attempts: 1, run_after: job.run_after, retry_at: null });
  expect(chatRequests(sim.counters)).toBe(1);
});

test("a job whose start_by passed while foreman was down is expired at start-up, never reaching the target", async () => {
  const { sim } = await start.stack({ sim: { faults: { asleep: true } } });
  const dir = tempDir();
  start.defer(() => dir.remove());
  const config = testConfig({ target: sim.url, pollIntervalMs: 50, connectTimeoutMs: 500 }, dir.path);
  const first = await startForeman(config);
  const { job } = await postJob(first.url, { request: chatRequest(), start_by: "400ms" });
  await first.stop();
  const startBy = Date.parse(job.start_by!);
  await waitFor(() => Date.now() > startBy, { what: "the job's start_by to pass while foreman is down" });
  await sim.setFaults({ asleep: false });
  const second = await startForeman(config);
  start.defer(() => second.stop());
  const view = await getJob(second.url, job.id);
  // (the first foreman may have tried to send it before its poller saw the target asleep: that
  // found nothing to talk to, so the job had not started)
  expect(view).toMatchObject({ status: "canceled", reason: "expired" });
  expect(Date.parse(view.finished_at!)).toBeGreaterThanOrEqual(startBy);
  await waitFor(() => second.services.poller.up === true, { what: "the target to be seen up" });
  expect(chatRequests(sim.counters)).toBe(0);
});

test("every series of foreman_jobs_ended_by_limit_total exists from the start", async () => {
  const { url } = await start.stack();
  for (const series of ['{lane="async",reason="max_run"}', '{lane="interactive",reason="max_run"}', '{lane="async",reason="expired"}']) {
    expect(await metric(url, `foreman_jobs_ended_by_limit_total${series}`)).toBe(0);
  }
});

describe("the run-time cap on a looping stream", () => {
  test("an async job's max_run stops it: failed with a reason naming the cap, not retried, the target request aborted", async () => {
    const lines: string[] = [];
    const { sim, url } = await start.stack({ sim: { tokenDelayMs: 10, faults: { endless: true } }, foreman: { logLevel: "info" }, start: { log: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }) } });
    const { job } = await postJob(url, { request: chatRequest(), max_run: "300ms" });
    const ended = await waitFor(async () => {
      const view = await getJob(url, job.id, 5);
      return view.status === "failed" && view;
    }, { what: "the looping job to fail at its cap" });
    expect(ended.error).toEqual({ status: 504, message: expect.stringContaining("max_run 300ms") });
    expect(ended.attempts).toBe(1);
    expect(ended.progress.chunks).toBeGreaterThan(0);
    await waitFor(() => sim.counters.aborted === 1, { what: "the simulator to see its request aborted" });
    expect(chatRequests(sim.counters)).toBe(1);
    expect(await metric(url, 'foreman_jobs_ended_by_limit_total{lane="async",reason="max_run"}')).toBe(1);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "run-time cap reached; the target request is stopped");
    expect(logged).toMatchObject({ job_id: job.id, lane: "async", max_run_ms: 300 });
  });

  test("FOREMAN_JOB_MAX_RUN_MS caps a job that sets none; max_run 0s lifts it", async () => {
    const { url, sim } = await start.stack({ sim: { tokenDelayMs: 10, faults: { endless: true } }, foreman: { jobMaxRunMs: 300 } });
    const { job } = await postJob(url, { request: chatRequest() });
    await waitFor(async () => (await getJob(url, job.id, 5)).status === "failed", { what: "the job to fail at the default cap" });
    expect((await getJob(url, job.id)).error?.message).toContain("max_run 300ms");
    await sim.setFaults({ endless: false });
    const uncapped = await postJob(url, { request: chatRequest(), max_run: "0s" }, { prefer: "wait=10" });
    expect(uncapped.job.status).toBe("done");
  });

  test("a passthrough NDJSON stream ends with Ollama's error line naming the cap; the record fails; /metrics counts it", async () => {
    const { url, foreman } = await start.stack({ sim: { tokenDelayMs: 10, faults: { endless: true } }, foreman: { interactiveMaxRunMs: 300 } });
    const ollama = new Ollama({ host: url });
    let chunks = 0;
    const err = await (async () => {
      for await (const _ of await ollama.chat({ ...chatRequest(), stream: true })) chunks++;
    })().catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("max_run 300ms");
    expect(chunks).toBeGreaterThan(0);
    const [record] = foreman.services.queue.list({ lane: 0, limit: 1 });
    await waitFor(() => foreman.services.queue.get(record!.id)!.status === "failed", { what: "the passthrough record to fail" });
    expect(foreman.services.queue.get(record!.id)!.error?.message).toContain("max_run 300ms");
    expect(await metric(url, 'foreman_jobs_ended_by_limit_total{lane="interactive",reason="max_run"}')).toBe(1);
  });

  test("a passthrough SSE stream is cut off, as a broken one", async () => {
    const { url } = await start.stack({ sim: { tokenDelayMs: 10, faults: { endless: true } }, foreman: { interactiveMaxRunMs: 300 } });
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: "x", maxRetries: 0 });
    let chunks = 0;
    const err = await (async () => {
      for await (const _ of await openai.chat.completions.create({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], stream: true })) chunks++;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(chunks).toBeGreaterThan(0);
  });

  test("off by default for passthrough: FOREMAN_INTERACTIVE_MAX_RUN_MS is 0", () => {
    expect(testConfig().interactiveMaxRunMs).toBe(0);
    expect(testConfig().jobMaxRunMs).toBe(1_800_000);
  });
});
