// Every write the worker makes, refused by the database (SQLITE_FULL, as a full disk answers):
// while the fault lasts a waiting caller hears a clear 503 and the worker says why it is paused;
// once the fault clears, the running process — no restart — writes what it could not, and the
// job ends exactly once, in the right state, its webhook sent once, the target asked no more
// often than the job's story needs. These tests read only foreman's HTTP API and the
// simulator's counters, so they hold for any way of writing a job's states.
import { expect, test } from "bun:test";
import { chatRequest, getJob, perTest, postJob, waitFor, type Stack } from "../harness.ts";
import type { StackOptions } from "../harness.ts";
import { storageFaults, type StorageFaults } from "../store/faults.ts";
import { startReceiver, type Receiver } from "../webhooks/receivers.ts";
import type { Job } from "../../src/queue/view.ts";

const start = perTest();
const TERMINAL: string[] = ["done", "failed", "canceled"];

interface Rig extends Stack {
  faults: StorageFaults;
  receiver: Receiver;
}

async function rig(options: StackOptions = {}): Promise<Rig> {
  const stack = await start.stack({
    ...options,
    sim: { tokenDelayMs: 2, loadMs: 20, ...options.sim },
    foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 50, retryBaseMs: 10, ...options.foreman },
  });
  const receiver = startReceiver();
  start.defer(() => receiver.stop());
  return Object.assign(stack, { faults: storageFaults(stack.foreman.services.store.db), receiver });
}

const submit = async (r: Rig, request = chatRequest(), headers: Record<string, string> = {}) => {
  const { status, job } = await postJob(r.url, { request, webhook: r.receiver.url }, headers);
  expect(status).toBe(202);
  return job;
};

const workerState = async (r: Rig) => ((await (await fetch(`${r.url}/status`)).json()) as { worker: { state: string; reason?: string } }).worker;

/** The worker, paused because it could not write the end of `id`. */
const pausedOn = (r: Rig, id: string) =>
  waitFor(async () => {
    const w = await workerState(r);
    return w.state === "paused" && w.reason?.includes(id) && w.reason.includes("database or disk is full") && w;
  }, { what: `the worker to say it cannot record the end of ${id}` });

/** The states a job went through, from its stored events (the stream ends after the terminal one). */
async function story(r: Rig, id: string): Promise<string[]> {
  const text = await (await fetch(`${r.url}/jobs/${id}/events`)).text();
  return [...text.matchAll(/^event: job\.(\w+)$/gm)].map((m) => m[1]!).filter((t) => t !== "progress");
}

const inFlight = async (r: Rig) => {
  const list = async (status: string) => ((await (await fetch(`${r.url}/jobs?status=${status}`)).json()) as { jobs: Job[] }).jobs;
  return [...(await list("loading")), ...(await list("working"))];
};

/** The job ended once as `status`, its webhook was sent once, and nothing shows as running that is not. */
async function endedOnce(r: Rig, id: string, status: string): Promise<Job> {
  const job = await waitFor(async () => {
    const j = await getJob(r.url, id);
    return TERMINAL.includes(j.status) && j;
  }, { what: `job ${id} to end`, timeoutMs: 15_000 });
  expect(job.status as string).toBe(status);
  const states = await story(r, id);
  expect(states.filter((s) => TERMINAL.includes(s))).toEqual([status]);
  await waitFor(() => r.receiver.hits.some((h) => h.json.data.id === id && TERMINAL.includes(h.json.type.replace("job.", ""))), { what: `the webhook for ${id}` });
  const sent = r.receiver.hits.filter((h) => h.json.data.id === id && TERMINAL.includes(h.json.type.replace("job.", "")));
  expect(new Set(sent.map((h) => h.headers.get("webhook-id"))).size).toBe(1);
  expect(sent[0]!.json.type).toBe(`job.${status}`);
  await waitFor(async () => (await workerState(r)).state !== "running" && (await inFlight(r)).length === 0, { what: "nothing left loading or working" });
  return job;
}

/** A caller long-polling the job while its end cannot be written hears a 503 with Retry-After, not a timeout. */
async function waiterHears503(r: Rig, id: string): Promise<void> {
  const res = await fetch(`${r.url}/jobs/${id}?wait=30`);
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBeTruthy();
  expect(((await res.json()) as { error: { message: string } }).error.message).toContain("database or disk is full");
}

const chats = (r: Rig) => r.sim.counters.requests["POST /api/chat"] ?? 0;

test("begin (queued → loading) refused: the job stays queued, then runs once", async () => {
  const r = await rig();
  r.faults.fail({ to: "loading" });
  const job = await submit(r);
  await waitFor(async () => (await workerState(r)).state === "paused", { what: "the worker to pause" });
  expect((await getJob(r.url, job.id)).status).toBe("queued");
  expect(chats(r)).toBe(0);
  r.faults.clear();
  await endedOnce(r, job.id, "done");
  expect(await story(r, job.id)).toEqual(["queued", "loading", "working", "done"]);
  expect(chats(r)).toBe(1);
});

test("loading → working refused: the job runs on and ends done once, its load time recorded with its end", async () => {
  const r = await rig({ sim: { loadMs: 100 } });
  r.faults.fail({ to: "working", from: "loading" });
  const job = await submit(r);
  const ended = await endedOnce(r, job.id, "done");
  r.faults.clear();
  expect(await story(r, job.id)).toEqual(["queued", "loading", "done"]);
  expect(ended.attempts).toBe(1);
  expect(chats(r)).toBe(1);
  expect(ended.timings).toHaveProperty("load_ms");
});

test("progress refused: the job runs on and ends done once", async () => {
  const r = await rig({ sim: { tokenDelayMs: 30, responseTokens: 20 } });
  r.faults.fail({ progress: true });
  const job = await submit(r);
  const ended = await endedOnce(r, job.id, "done");
  expect(ended.attempts).toBe(1);
  expect(chats(r)).toBe(1);
});

test("done refused: a waiting caller hears 503, the worker says why, and the end is written once the fault clears", async () => {
  const r = await rig();
  r.faults.fail({ to: "done" });
  const job = await submit(r);
  await waiterHears503(r, job.id);
  await pausedOn(r, job.id);
  expect((await getJob(r.url, job.id)).status).toBe("working");
  r.faults.clear();
  await endedOnce(r, job.id, "done");
  expect(await story(r, job.id)).toEqual(["queued", "loading", "working", "done"]);
  expect(chats(r)).toBe(1);
});

test("the handoff refused (the next job's begin): the finished job's end is written alone, not lost with it", async () => {
  const r = await rig({ sim: { tokenDelayMs: 40, responseTokens: 10 } });
  const first = await submit(r);
  await waitFor(async () => (await getJob(r.url, first.id)).status === "working", { what: "the first job to work" });
  const second = await submit(r, chatRequest("qwen2.5:0.5b"));
  r.faults.fail({ to: "loading" });
  // the handoff that carries the first job's end and the second's begin fails on the begin
  await endedOnce(r, first.id, "done");
  expect((await getJob(r.url, second.id)).status).toBe("queued");
  expect(chats(r)).toBe(1);
  r.faults.clear();
  await endedOnce(r, second.id, "done");
  expect(chats(r)).toBe(2);
});

test("failed refused (a 4xx from the target): the caller hears 503, then the job ends failed once", async () => {
  const r = await rig({ sim: { faults: { errorBeforeFirstByte: { status: 400, message: "bad options" } } } });
  r.faults.fail({ to: "failed" });
  const job = await submit(r);
  await pausedOn(r, job.id);
  await waiterHears503(r, job.id);
  r.faults.clear();
  const ended = await endedOnce(r, job.id, "failed");
  expect(ended.error?.status).toBe(400);
  expect(chats(r)).toBeGreaterThanOrEqual(1);
});

test("a retry's requeue refused (a 5xx from the target): the job backs off once the fault clears, then runs and ends done once", async () => {
  const r = await rig({ sim: { faults: { errorBeforeFirstByte: { status: 500, message: "runner crashed" } } } });
  r.faults.fail({ to: "queued" });
  const job = await submit(r);
  await pausedOn(r, job.id);
  await waiterHears503(r, job.id);
  expect(chats(r)).toBe(1);
  await r.sim.setFaults({ errorBeforeFirstByte: null });
  r.faults.clear();
  const ended = await endedOnce(r, job.id, "done");
  expect((await story(r, job.id)).filter((s) => s === "queued")).toHaveLength(2);
  expect(ended.attempts).toBe(2);
  expect(chats(r)).toBe(2);
});

test("the requeue of a target gone unreachable refused: once the fault clears and the target returns, the job runs again and ends done once", async () => {
  const r = await rig({ sim: { tokenDelayMs: 20, responseTokens: 40 } });
  const job = await submit(r);
  await waitFor(async () => (await getJob(r.url, job.id)).status === "working", { what: "the job to work" });
  r.faults.fail({ to: "queued" });
  await r.sim.setFaults({ asleep: true });
  await pausedOn(r, job.id);
  await waiterHears503(r, job.id);
  r.faults.clear();
  await waitFor(async () => (await getJob(r.url, job.id)).status === "queued", { what: "the job to be requeued by the running process" });
  await r.sim.setFaults({ asleep: false });
  const ended = await endedOnce(r, job.id, "done");
  expect(ended.attempts).toBe(2);
  expect((await story(r, job.id)).filter((s) => s === "queued")).toHaveLength(2);
});

test("a preempted job's requeue refused: the passthrough request waits, then runs; the job runs again and ends done once", async () => {
  const r = await rig({ sim: { tokenDelayMs: 20, responseTokens: 40 }, foreman: { preemptAfterMs: 50 } });
  const job = await submit(r);
  await waitFor(async () => (await getJob(r.url, job.id)).status === "working", { what: "the job to work" });
  r.faults.fail({ to: "queued" });
  const passthrough = fetch(`${r.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...chatRequest(), stream: false }) });
  await pausedOn(r, job.id);
  await waiterHears503(r, job.id);
  r.faults.clear();
  expect((await passthrough).status).toBe(200);
  const ended = await endedOnce(r, job.id, "done");
  expect(ended.preemptions).toBe(1);
  expect(ended.attempts).toBe(2);
});

test("cancel refused: the canceller hears 503, then the job ends canceled once", async () => {
  const r = await rig({ sim: { tokenDelayMs: 50, responseTokens: 200 } });
  const job = await submit(r);
  await waitFor(async () => (await getJob(r.url, job.id)).status === "working", { what: "the job to work" });
  r.faults.fail({ to: "canceled" });
  const cancel = await fetch(`${r.url}/jobs/${job.id}/cancel`, { method: "POST" });
  expect(cancel.status).toBe(503);
  await pausedOn(r, job.id);
  r.faults.clear();
  await endedOnce(r, job.id, "canceled");
  expect(chats(r)).toBe(1);
});

test("a passthrough request whose end is refused: its caller hears a clear 503 at once, and the record ends once", async () => {
  const r = await rig({ sim: { faults: { hung: true } }, foreman: { firstByteTimeoutMs: 200 } });
  r.faults.fail({ to: "failed" });
  const res = await fetch(`${r.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...chatRequest(), stream: false }) });
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: string }).error).toContain("could not record the end of this request");
  r.faults.clear();
  await waitFor(async () => (await inFlight(r)).length === 0 && (await workerState(r)).state !== "paused", { what: "the record to end" });
  const records = ((await (await fetch(`${r.url}/jobs?lane=interactive`)).json()) as { jobs: Job[] }).jobs;
  expect(records.map((j) => j.status)).toEqual(["failed"]);
});
