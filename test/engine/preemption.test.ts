// Preemption against a real simulator (ADR 0020): a passthrough request that has waited past
// FOREMAN_PREEMPT_AFTER_MS stops the async job on the target; the job goes back to the head of
// its queue, runs again from the start and still ends done with the whole answer. Jobs submitted
// with "preemptible": false, jobs at the cap and interactive work are never stopped; the target
// sees one request at a time throughout. The threshold is 1 ms here, so whether a job is
// preempted never depends on timing: the request arrives while the job has seconds left to run.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { isTerminal } from "../../src/contract/states.ts";
import { preemption, type PreemptionPolicy, type RunningWork, type WaitingRequest } from "../../src/engine/preemption.ts";
import { startSimulator } from "../../src/sim/index.ts";
import type { InteractiveRequest } from "../../src/engine/worker.ts";
import { INTERACTIVE } from "../../src/queue/queue.ts";
import type { Job } from "../../src/queue/view.ts";
import { getJob, perTest, postJob, spawnForeman, tempDir, waitFor, type Stack } from "../harness.ts";
import { startReceiver } from "../webhooks/receiver.ts";

const start = perTest();

/** A job long enough (tokens × the simulator's delay) to be surely running when a request comes. */
const LONG = 100;
const longChat = (model = "llama3.2", content = "write a long report", tokens = LONG) => ({ model, messages: [{ role: "user", content }], options: { num_predict: tokens } });
const quickChat = (model = "llama3.2") => JSON.stringify({ model, messages: [{ role: "user", content: "a quick question" }], options: { num_predict: 3 } });

const SIM = { tokenDelayMs: 15, loadMs: 20, maxLoaded: 1 };

async function submit(base: string, body: Record<string, unknown>): Promise<Job> {
  const { status, job } = await postJob(base, body);
  expect(status).toBe(202);
  return job;
}

/** Waits until the job is generating (its first progress is in), so it is on the target for seconds more. */
const whenWorking = (base: string, id: string, preemptions = 0) =>
  waitFor(
    async () => {
      const job = await getJob(base, id);
      return job.status === "working" && job.preemptions === preemptions && job;
    },
    { what: `job ${id} working (after ${preemptions} preemptions)` },
  );

/** A passthrough chat, read to its end: status, the whole body, and the record's id (from GET /jobs?lane=interactive). */
async function passthrough(base: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/api/chat`, { method: "POST", body });
  return { status: res.status, text: await res.text() };
}

const finished = (base: string, id: string) => waitFor(async () => ((await getJob(base, id)).status === "done" ? getJob(base, id) : null), { what: `job ${id} to end`, timeoutMs: 30_000 });

/** The passthrough records, oldest first. */
async function interactiveRecords(base: string): Promise<Job[]> {
  const { jobs } = (await (await fetch(`${base}/jobs?lane=interactive&limit=100`)).json()) as { jobs: Job[] };
  return jobs.reverse();
}

/** What the simulator answers the same request straight away: the whole answer a job must end with. */
async function directAnswer(sim: Stack["sim"], body: Record<string, unknown>): Promise<{ content: string; eval_count: number }> {
  const reply = (await (await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...body, stream: false }) })).json()) as { message: { content: string }; eval_count: number };
  return { content: reply.message.content, eval_count: reply.eval_count };
}

async function artifactOf(base: string, id: string): Promise<{ message: { content: string }; eval_count: number }> {
  return (await (await fetch(`${base}/jobs/${id}/artifact`)).json()) as { message: { content: string }; eval_count: number };
}

describe("the policy (pure)", () => {
  const policy: PreemptionPolicy = { afterMs: 500, maxPerJob: 2 };
  const job = (over: Partial<RunningWork> = {}): RunningWork => ({ interactive: false, state: "working", drainKey: "a:latest", preemptible: true, preemptions: 0, ...over });
  const waiting = (over: Partial<WaitingRequest> = {}): WaitingRequest => ({ drainKey: "b:latest", queuedAt: 1000, ...over });

  test("a working job makes way once the oldest request has waited the threshold; before that, the time to look again", () => {
    expect(preemption(job(), waiting(), policy, 1200)).toEqual({ kind: "at", at: 1500 });
    expect(preemption(job(), waiting(), policy, 1500)).toEqual({ kind: "now" });
    expect(preemption(job(), waiting({ drainKey: "a:latest" }), policy, 9999)).toEqual({ kind: "now" });
  });

  test("never: off, nothing running or waiting, interactive work, a job not preemptible, a job at the cap", () => {
    expect(preemption(job(), waiting(), { ...policy, afterMs: 0 }, 9999)).toEqual({ kind: "never" });
    expect(preemption(null, waiting(), policy, 9999)).toEqual({ kind: "never" });
    expect(preemption(job(), null, policy, 9999)).toEqual({ kind: "never" });
    expect(preemption(job({ interactive: true }), waiting(), policy, 9999)).toEqual({ kind: "never" });
    expect(preemption(job({ preemptible: false }), waiting(), policy, 9999)).toEqual({ kind: "never" });
    expect(preemption(job({ preemptions: 2 }), waiting(), policy, 9999)).toEqual({ kind: "never" });
    expect(preemption(job({ preemptions: 1 }), waiting(), policy, 9999)).toEqual({ kind: "now" });
    expect(preemption(job(), waiting(), { ...policy, maxPerJob: 0 }, 9999)).toEqual({ kind: "never" });
  });

  test("a load of what the request needs is left to end; a load of anything else (another model, other options) is stopped", () => {
    expect(preemption(job({ state: "loading", drainKey: "b:latest" }), waiting(), policy, 9999)).toEqual({ kind: "never" });
    expect(preemption(job({ state: "loading", drainKey: "a:latest" }), waiting(), policy, 9999)).toEqual({ kind: "now" });
    expect(preemption(job({ state: "loading", drainKey: "b:latest num_ctx=8192" }), waiting(), policy, 9999)).toEqual({ kind: "now" });
    // once that load is done and the job works, the request's threshold applies as to any job
    expect(preemption(job({ state: "working", drainKey: "b:latest" }), waiting(), policy, 9999)).toEqual({ kind: "now" });
  });

  test("exhaustive: the decision is now, at the threshold, or never, exactly by the rules", () => {
    let checked = 0;
    for (const interactive of [false, true])
      for (const state of ["loading", "working"] as const)
        for (const drainKey of ["a:latest", "b:latest"])
          for (const preemptible of [false, true])
            for (const preemptions of [0, 1, 2, 3])
              for (const afterMs of [0, 1, 500])
                for (const now of [1000, 1499, 1500, 2000]) {
                  const running = job({ interactive, state, drainKey, preemptible, preemptions });
                  const decision = preemption(running, waiting(), { afterMs, maxPerJob: 2 }, now);
                  const eligible = afterMs > 0 && !interactive && preemptible && preemptions < 2 && !(state === "loading" && drainKey === "b:latest");
                  checked++;
                  if (!eligible) expect(decision).toEqual({ kind: "never" });
                  else if (now >= 1000 + afterMs) expect(decision).toEqual({ kind: "now" });
                  else expect(decision).toEqual({ kind: "at", at: 1000 + afterMs });
                }
    expect(checked).toBe(2 * 2 * 2 * 2 * 4 * 3 * 4);
  });
});

describe("preemption", () => {
  test("a running job makes way for a waiting passthrough request, runs again from the start and ends done with the whole answer", async () => {
    const { sim, foreman, url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 } });
    const body = longChat();
    const job = await submit(url, { request: body });
    await whenWorking(url, job.id);
    const reply = await passthrough(url, quickChat());
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('"done":true');
    const done = await finished(url, job.id);
    expect(done.preemptions).toBe(1);
    expect(done.attempts).toBe(2);
    expect(done.progress.tokens).toBe(LONG);
    const artifact = await artifactOf(url, job.id);
    const direct = await directAnswer(sim, body);
    expect(artifact.message.content).toBe(direct.content);
    expect(artifact.eval_count).toBe(LONG);
    // the request ran inside the job's life: after its first start, before its end
    const [record] = await interactiveRecords(url);
    expect(record!.status).toBe("done");
    expect(Date.parse(record!.started_at!)).toBeLessThan(Date.parse(done.finished_at!));
    const events = foreman.services.queue.events(job.id);
    expect(events.map((e) => e.type)).toEqual(["queued", "loading", "working", "queued", "working", "done"]);
    expect(events[3]!.data).toEqual({ reason: "preempted", by: record!.id, discarded_ms: expect.any(Number), queue_position: expect.any(Number) });
    // not a failure: failures stay 0
    expect(foreman.services.queue.get(job.id)!.failures).toBe(0);
    expect(foreman.services.worker.stats.preemptions).toBe(1);
    expect(sim.counters.maxConcurrent).toBe(1);
  });

  test("the webhook shows the extra queued and working in order, the queued one with reason preempted", async () => {
    const receiver = startReceiver();
    start.defer(() => receiver.stop());
    const { url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 }, start: { webhooks: { schedule: [20, 40], timeoutMs: 2000 } } });
    const job = await submit(url, { request: longChat(), webhook: receiver.url });
    await whenWorking(url, job.id);
    expect((await passthrough(url, quickChat())).status).toBe(200);
    const got = await receiver.until((r) => r.some((x) => x.json.type === "job.done"));
    expect(got.map((r) => r.json.type)).toEqual(["job.queued", "job.loading", "job.working", "job.queued", "job.working", "job.done"]);
    const requeued = got[3]!.json.data;
    expect(requeued.reason).toBe("preempted");
    expect(requeued.preemptions).toBe(1);
    expect(requeued.progress).toEqual({ chunks: 0, tokens: 0 });
    expect(got[0]!.json.data.reason).toBeUndefined();
    expect(got.at(-1)!.json.data.preemptions).toBe(1);
  });

  test("a job submitted with preemptible false runs to its end; the request waits for it", async () => {
    const { sim, url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 } });
    const job = await submit(url, { request: longChat("llama3.2", "report", 60), preemptible: false });
    expect(job.preemptible).toBe(false);
    await whenWorking(url, job.id);
    expect((await passthrough(url, quickChat())).status).toBe(200);
    const done = await finished(url, job.id);
    expect(done.preemptions).toBe(0);
    expect(done.attempts).toBe(1);
    const [record] = await interactiveRecords(url);
    expect(Date.parse(record!.started_at!)).toBeGreaterThanOrEqual(Date.parse(done.finished_at!));
    expect(sim.counters.maxConcurrent).toBe(1);
  });

  test("a job is preempted at most FOREMAN_PREEMPT_MAX times, then runs to completion", async () => {
    const { sim, url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1, preemptMax: 2 } });
    const job = await submit(url, { request: longChat("llama3.2", "report", 100) });
    for (let n = 0; n < 3; n++) {
      await whenWorking(url, job.id, n);
      expect((await passthrough(url, quickChat())).status).toBe(200);
    }
    const done = await finished(url, job.id);
    expect(done.preemptions).toBe(2);
    const records = await interactiveRecords(url);
    expect(records).toHaveLength(3);
    // the third request waited for the job's end
    expect(Date.parse(records[2]!.started_at!)).toBeGreaterThanOrEqual(Date.parse(done.finished_at!));
    expect((await artifactOf(url, job.id)).eval_count).toBe(100);
    expect(sim.counters.maxConcurrent).toBe(1);
  });

  test("interactive work is never preempted: a long passthrough stream ends whole while another request waits", async () => {
    const { sim, url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 } });
    const res = await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify(longChat("llama3.2", "a long chat", 60)) });
    const reader = res.body!.getReader();
    await reader.read(); // the long stream is on the target
    const second = passthrough(url, quickChat("mistral"));
    // an async job waiting behind both does not preempt anything either
    const job = await submit(url, { request: longChat("llama3.2", "later", 5) });
    let text = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    expect(text).toContain('"done":true');
    expect((await second).status).toBe(200);
    const records = await interactiveRecords(url);
    expect(records.map((r) => r.status)).toEqual(["done", "done"]);
    expect(Date.parse(records[1]!.started_at!)).toBeGreaterThanOrEqual(Date.parse(records[0]!.finished_at!));
    expect((await finished(url, job.id)).preemptions).toBe(0);
    expect(sim.counters.maxConcurrent).toBe(1);
  });

  test("after the interactive work the drain goes on with the preempted job's model, not with the other model's queue", async () => {
    const { foreman, url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 } });
    const a1 = await submit(url, { request: longChat("llama3.2", "a1", 60) });
    await whenWorking(url, a1.id);
    const b1 = await submit(url, { request: longChat("mistral", "b1", 5) });
    const a2 = await submit(url, { request: longChat("llama3.2", "a2", 5) });
    // the request loads mistral, which has a job queued; still llama3.2's drain resumes first
    expect((await passthrough(url, quickChat("mistral"))).status).toBe(200);
    const jobs = await Promise.all([a1, a2, b1].map((j) => finished(url, j.id)));
    const order = [...jobs].sort((x, y) => Date.parse(x.started_at!) - Date.parse(y.started_at!)).map((j) => j.id);
    expect(order).toEqual([a1.id, a2.id, b1.id]);
    // a1 started again before a2 and b1: its last start is its working event after the preemption
    const restarted = foreman.services.queue.events(a1.id).filter((e) => e.type === "loading" || e.type === "working").at(-1)!.at;
    expect(restarted).toBeLessThanOrEqual(foreman.services.queue.get(a2.id)!.startedAt!);
    expect(restarted).toBeLessThanOrEqual(foreman.services.queue.get(b1.id)!.startedAt!);
  });

  test("a cancel asked for while a preemption stops the job still cancels it: the job does not go back to the queue", async () => {
    const { foreman, url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 } });
    const job = await submit(url, { request: longChat() });
    await whenWorking(url, job.id);
    const { queue, worker } = foreman.services;
    // a passthrough request, waiting past the threshold when the worker hears of it
    const record = queue.enqueue({ lane: INTERACTIVE, endpoint: "/api/chat", model: "llama3.2" });
    await Bun.sleep(5);
    const answered = Promise.withResolvers<number>();
    const request: InteractiveRequest = {
      path: "/api/chat",
      body: new TextEncoder().encode(quickChat()),
      headers: new Headers(),
      signal: new AbortController().signal,
      async deliver(res) {
        await res.text();
        answered.resolve(res.status);
        return { kind: "gone" };
      },
      fail: (status) => answered.resolve(status),
      cut: () => answered.resolve(0),
    };
    // attaching it stops the job at once; the cancel comes in the same turn, before the job has ended
    worker.attach(record.id, request);
    expect(worker.cancelRunning(job.id, "canceled by request")).toBe(true);
    const ended = await waitFor(() => isTerminal(queue.get(job.id)!.status) && queue.get(job.id)!, { what: "the job to end" });
    expect(ended.status).toBe("canceled");
    expect(ended.preemptions).toBe(0);
    expect(queue.events(job.id).map((e) => e.type)).toEqual(["queued", "loading", "working", "canceled"]);
    expect(await answered.promise).toBe(200);
  });

  test("with FOREMAN_PREEMPT_AFTER_MS=0 nothing is preempted", async () => {
    const { url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 0 } });
    const job = await submit(url, { request: longChat("llama3.2", "report", 40) });
    await whenWorking(url, job.id);
    expect((await passthrough(url, quickChat())).status).toBe(200);
    expect((await finished(url, job.id)).preemptions).toBe(0);
  });

  test("/status shows the last preemption; /metrics counts preemptions and the generation thrown away", async () => {
    const { url } = await start.stack({ sim: SIM, foreman: { preemptAfterMs: 1 } });
    const job = await submit(url, { request: longChat() });
    await whenWorking(url, job.id);
    await waitFor(async () => (await getJob(url, job.id)).progress.tokens >= 3, { what: "some tokens generated" });
    await passthrough(url, quickChat());
    const status = (await (await fetch(`${url}/status`)).json()) as Record<string, any>;
    const [record] = await interactiveRecords(url);
    expect(status.preemptions).toBe(1);
    expect(status.last_preemption).toEqual({ at: expect.any(String), job: job.id, model: "llama3.2", by: record!.id, discarded_seconds: expect.any(Number), preemptions: 1 });
    expect(status.last_preemption.discarded_seconds).toBeGreaterThan(0);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^foreman_preemptions_total 1$/m);
    const discarded = Number(/^foreman_preempted_generation_seconds_total (\S+)$/m.exec(metrics)?.[1]);
    expect(discarded).toBe(status.preempted_generation_seconds);
    expect(discarded).toBeGreaterThan(0);
  });
});

test("a SIGKILL during a preemption loses nothing: after the restart the job ends done with the whole answer, once", async () => {
  const sim = await startSimulator(SIM);
  start.defer(() => sim.stop());
  const dir = tempDir();
  start.defer(() => dir.remove());
  const db = join(dir.path, "foreman.db");
  const args = ["--preempt-after-ms", "1", "--log-level", "info"];
  let proc = await spawnForeman({ target: sim.url, db, args });
  start.defer(() => proc.kill("SIGKILL"));
  const body = longChat();
  const job = await submit(proc.url, { request: body });
  await whenWorking(proc.url, job.id);
  // a long passthrough request: it holds the target while the preempted job waits in the queue
  void fetch(`${proc.url}/api/chat`, { method: "POST", body: JSON.stringify(longChat("llama3.2", "a long chat", 1000)) }).then((r) => r.text()).catch(() => {});
  await waitFor(async () => (await getJob(proc.url, job.id)).preemptions === 1, { what: "the job preempted" });
  const requeued = await getJob(proc.url, job.id);
  expect(requeued.status).toBe("queued");
  await proc.kill("SIGKILL");
  proc = await spawnForeman({ target: sim.url, db, args });
  const done = await waitFor(async () => {
    const j = await getJob(proc.url, job.id);
    return isTerminal(j.status) && j;
  }, { what: "the job to end after the restart", timeoutMs: 30_000 });
  expect(done.status).toBe("done");
  expect(done.preemptions).toBe(1);
  expect((await artifactOf(proc.url, job.id)).message.content).toBe((await directAnswer(sim, body)).content);
  await proc.kill("SIGTERM");
  const check = new Database(db, { readonly: true });
  const types = (check.query("SELECT type FROM job_events WHERE job_id = ? ORDER BY id").all(job.id) as { type: string }[]).map((e) => e.type);
  const failures = check.query("SELECT failures FROM jobs WHERE id = ?").get(job.id) as { failures: number };
  check.close();
  expect(types.filter((t) => t === "done")).toHaveLength(1);
  expect(types.slice(0, 4)).toEqual(["queued", "loading", "working", "queued"]);
  // the kill came while it waited in the queue, so the restart did not count a failure against it
  expect(failures.failures).toBe(0);
  expect(sim.counters.maxConcurrent).toBe(1);
}, 60_000);
