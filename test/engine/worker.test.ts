// The engine against a real simulator: drain-by-model, the aging cap, one request at a time
// on the target, and a target that falls asleep mid-run.
import { describe, expect, test } from "bun:test";
import { chat as chatKind } from "../../jobs/chat.ts";
import { loadOf } from "../../jobs/kind.ts";
import { isTerminal } from "../../src/contract/states.ts";
import { ASYNC, type JobRecord } from "../../src/queue/queue.ts";
import { perTest, postJob, waitFor, type TestForeman } from "../harness.ts";

const start = perTest();

const chat = (model: string, content = "hello") => JSON.stringify({ model, messages: [{ role: "user", content }] });

function enqueue(f: TestForeman, model: string, priority = 0, content = "hello"): JobRecord {
  const job = f.services.queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model, priority, request: chat(model, content) });
  f.services.worker.wake();
  return job;
}

/** `count` chat jobs queued in one transaction, each with the model and num_ctx `of(i)` gives it; then the worker is woken. */
function backlog(f: TestForeman, count: number, of: (i: number) => { model: string; numCtx: number }): string[] {
  const ids = f.services.queue.atomically(() =>
    Array.from({ length: count }, (_, i) => {
      const { model, numCtx } = of(i);
      const body = { model, messages: [{ role: "user", content: `job ${i}` }], options: { num_ctx: numCtx, temperature: i / count } };
      return f.services.queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model, request: JSON.stringify(body), load: loadOf(chatKind, body) }).id;
    }),
  );
  f.services.worker.wake();
  return ids;
}

/** Resolves when every job is terminal; polls the database, not a timer-based assertion. */
function settle(f: TestForeman, ids: string[], timeoutMs = 60_000): Promise<JobRecord[]> {
  const jobs = () => ids.map((id) => f.services.queue.get(id)!);
  const unfinished = () => jobs().filter((j) => !isTerminal(j.status));
  return waitFor(() => unfinished().length === 0 && jobs(), {
    what: () => `every job to finish (unfinished: ${unfinished().map((j) => `${j.id}:${j.status}`).join(", ")})`,
    timeoutMs,
    intervalMs: 20,
  });
}

describe("worker", () => {
  test("an interleaved workload over three models loads each model once per drain, one request at a time", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 30, responseTokens: 3, maxLoaded: 1 } });
    const models = ["llama3.2", "mistral", "qwen2.5:0.5b"];
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) ids.push(enqueue(foreman, models[i % 3]!).id);
    const jobs = await settle(foreman, ids);
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => "done"));
    expect(sim.counters.loads).toBe(3);
    expect(sim.counters.maxConcurrent).toBe(1);
    // drained: the finish order groups models together
    const order = [...jobs].sort((a, b) => a.finishedAt! - b.finishedAt! || a.seq - b.seq).map((j) => j.modelKey);
    const switches = order.filter((m, i) => i > 0 && m !== order[i - 1]).length;
    expect(switches).toBe(2);
    expect(foreman.services.worker.stats.loads).toBe(3);
  });

  test("load-time options: a backlog alternating num_ctx over two models loads each (model, options) group once", async () => {
    const { sim, foreman, url } = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 30, responseTokens: 3, maxLoaded: 1 } });
    // queued at once, so the order of the groups is the drain's alone
    const ids = backlog(foreman, 24, (i) => ({ model: i % 4 < 2 ? "mistral" : "llama3.2", numCtx: i % 2 ? 8192 : 2048 }));
    const jobs = await settle(foreman, ids);
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => "done"));
    expect(new Set(jobs.map((j) => j.drainKey))).toEqual(new Set(["mistral:latest num_ctx=2048", "mistral:latest num_ctx=8192", "llama3.2:latest num_ctx=2048", "llama3.2:latest num_ctx=8192"]));
    // one load per group; a change of num_ctx within a model is a reload (two when the drain
    // takes each model's groups back to back, one when another model comes in between)
    expect([sim.counters.loads, sim.counters.swaps]).toEqual([4, 3]);
    expect([1, 2]).toContain(sim.counters.reloads);
    expect(foreman.services.worker.stats).toMatchObject({ loads: 4, swaps: 3, reloads: sim.counters.reloads });
    const order = [...jobs].sort((a, b) => a.finishedAt! - b.finishedAt! || a.seq - b.seq).map((j) => j.drainKey);
    expect(order.filter((k, i) => i > 0 && k !== order[i - 1])).toHaveLength(3);
    expect(sim.counters.maxConcurrent).toBe(1);
    const status = (await (await fetch(`${url}/status`)).json()) as Record<string, any>;
    expect(status.reloads).toBe(sim.counters.reloads);
    // a reload is the same model with other options
    const reloads = status.recent_swaps.filter((s: { reload: boolean }) => s.reload);
    expect(reloads.map((s: { from: string; to: string }) => s.from.split(" ")[0] === s.to.split(" ")[0])).toEqual(reloads.map(() => true));
    expect(reloads).toHaveLength(sim.counters.reloads);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain(`\nforeman_model_reloads_total ${sim.counters.reloads}\n`);
  });

  test("load-time options: with room for every model, changing num_ctx still reloads once per group", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 30, responseTokens: 3, maxLoaded: 3 } });
    const ids = backlog(foreman, 16, (i) => ({ model: i % 2 ? "llama3.2" : "mistral", numCtx: i % 4 < 2 ? 2048 : 8192 }));
    await settle(foreman, ids);
    expect([sim.counters.loads, sim.counters.reloads]).toEqual([4, 2]);
    expect(foreman.services.worker.stats.reloads).toBe(2);
  });

  test("a passthrough request's load-time options are read from its body: its record carries the drain key, and jobs with the same options follow without a reload", async () => {
    const { sim, foreman, url } = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 30, responseTokens: 3, maxLoaded: 1 } });
    const body = { model: "llama3.2", messages: [{ role: "user", content: "hi" }], options: { num_ctx: 8192, use_mmap: false }, stream: false };
    expect((await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify(body) })).status).toBe(200);
    const [record] = foreman.services.queue.list({ lane: 0, limit: 1 });
    expect(record!.drainKey).toBe("llama3.2:latest num_ctx=8192 use_mmap=false");
    // the OpenAI layer passes no load-time options on: its requests run with the model's defaults
    const v1 = { model: "llama3.2", messages: [{ role: "user", content: "hi" }], options: { num_ctx: 8192 } };
    expect((await fetch(`${url}/v1/chat/completions`, { method: "POST", body: JSON.stringify(v1) })).status).toBe(200);
    expect(foreman.services.queue.list({ lane: 0, limit: 1 })[0]!.drainKey).toBe("llama3.2:latest");
    // POST /jobs reads them from the request as well
    const { job } = await postJob(url, { request: { ...body, stream: undefined } });
    expect(foreman.services.queue.get(job.id)!.drainKey).toBe("llama3.2:latest num_ctx=8192 use_mmap=false");
    await settle(foreman, [job.id]);
    expect(sim.counters.reloads).toBe(2);
    expect(foreman.services.worker.stats.reloads).toBe(2);
  });

  test("each job's artifact is the target's non-streamed reply shape, and the job records its timings", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 5 } });
    const job = enqueue(foreman, "llama3.2", 0, "tell me");
    const [done] = await settle(foreman, [job.id]);
    expect(done!.status).toBe("done");
    const artifact = JSON.parse(new TextDecoder().decode(foreman.services.queue.artifact(job.id)!.body));
    const direct = (await (await fetch(`${sim.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...JSON.parse(chat("llama3.2", "tell me")), stream: false }) })).json()) as Record<string, unknown>;
    expect(artifact.message).toEqual(direct.message);
    expect(artifact.done).toBe(true);
    expect(artifact.done_reason).toBe(direct.done_reason);
    expect(Object.keys(artifact)).toEqual(Object.keys(direct));
    expect(done!.progressTokens).toBe(direct.eval_count as number);
    expect(done!.timings).toEqual(expect.objectContaining({ queueMs: expect.any(Number), ttftMs: expect.any(Number), totalMs: expect.any(Number) }));
    expect(foreman.services.queue.events(job.id).map((e) => e.type)).toEqual(["queued", "loading", "working", "done"]);
  });

  test("the aging cap serves a waiting model even though the resident model still has work", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 5, loadMs: 10, responseTokens: 4, maxLoaded: 1 }, foreman: { agingCapMs: 150 } });
    const backlog: string[] = [];
    for (let i = 0; i < 40; i++) backlog.push(enqueue(foreman, "llama3.2").id);
    const starved = enqueue(foreman, "mistral").id;
    const jobs = await settle(foreman, [...backlog, starved]);
    const b = jobs.find((j) => j.id === starved)!;
    const afterB = jobs.filter((j) => j.id !== starved && j.startedAt! > b.startedAt!);
    expect(b.status).toBe("done");
    // the starved job did not wait for the whole backlog
    expect(afterB.length).toBeGreaterThan(0);
    expect(sim.counters.maxConcurrent).toBe(1);
  });

  test("without the aging cap pressure, a late model waits for the resident model's drain", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, responseTokens: 2, maxLoaded: 1 }, foreman: { agingCapMs: 3_600_000 } });
    const backlog: string[] = [];
    for (let i = 0; i < 10; i++) backlog.push(enqueue(foreman, "llama3.2").id);
    const late = enqueue(foreman, "mistral").id;
    const jobs = await settle(foreman, [...backlog, late]);
    const b = jobs.find((j) => j.id === late)!;
    // no backlog job finished after the late model's job started
    expect(jobs.filter((j) => j.id !== late && j.finishedAt! > b.startedAt!)).toEqual([]);
    expect(sim.counters.loads).toBe(2);
  });

  test("priority orders jobs within a model", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, responseTokens: 2 } });
    // hold the worker on a first job so the rest queue up together
    const first = enqueue(foreman, "llama3.2");
    const low = enqueue(foreman, "llama3.2", 0);
    const high = enqueue(foreman, "llama3.2", 5);
    const jobs = await settle(foreman, [first.id, low.id, high.id]);
    const byId = Object.fromEntries(jobs.map((j) => [j.id, j]));
    expect(byId[high.id]!.startedAt!).toBeLessThanOrEqual(byId[low.id]!.startedAt!);
  });

  test("a target that falls asleep mid-run costs no job: work resumes when it wakes", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 5, loadMs: 5, responseTokens: 5 }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 200, connectTimeoutMs: 500 } });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(enqueue(foreman, i % 2 ? "llama3.2" : "mistral").id);
    // let some finish, then sleep
    await waitFor(() => ids.filter((id) => foreman.services.queue.get(id)!.status === "done").length >= 3, { what: "three jobs done" });
    await sim.setFaults({ asleep: true });
    await waitFor(() => foreman.services.poller.up === false, { what: "the poller to see the target down" });
    expect(foreman.services.worker.state.kind).toBe("paused");
    // a stretch asleep: the poller probes (and fails) a few more times
    const probes = foreman.services.poller.errors;
    await waitFor(() => foreman.services.poller.errors >= probes + 3, { what: "three more failed liveness probes while the target sleeps" });
    const whileAsleep = ids.map((id) => foreman.services.queue.get(id)!);
    expect(whileAsleep.filter((j) => j.status === "failed")).toEqual([]);
    await sim.setFaults({ asleep: false });
    const jobs = await settle(foreman, ids);
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => "done"));
    expect(sim.counters.maxConcurrent).toBe(1);
  });

  test("a target 4xx fails the job with the target's message and status", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5 } });
    const job = enqueue(foreman, "no-such-model");
    const [failed] = await settle(foreman, [job.id]);
    expect(failed!.status).toBe("failed");
    expect(failed!.error).toEqual({ status: 404, message: "model 'no-such-model' not found" });
    expect(failed!.attempts).toBe(1);
  });

  test("a job for a model the target lacks is no load and no swap: /status and the metrics count only loads that happened", async () => {
    const { foreman, sim } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, responseTokens: 1, maxLoaded: 1 } });
    await settle(foreman, [enqueue(foreman, "llama3.2").id]);
    const [failed] = await settle(foreman, [enqueue(foreman, "no-such-model").id]);
    expect(failed!.error?.status).toBe(404);
    expect([sim.counters.loads, sim.counters.swaps]).toEqual([1, 0]);
    const status = (await (await fetch(`${foreman.url}/status`)).json()) as Record<string, any>;
    expect([status.loads, status.swaps, status.recent_swaps]).toEqual([1, 0, []]);
    const metrics = await (await fetch(`${foreman.url}/metrics`)).text();
    expect(metrics).toContain("\nforeman_model_loads_total 1\n");
    expect(metrics).toContain("\nforeman_model_swaps_total 0\n");
    // the next model's load is a swap again, from the model that was loaded
    await settle(foreman, [enqueue(foreman, "mistral").id]);
    const after = (await (await fetch(`${foreman.url}/status`)).json()) as Record<string, any>;
    expect([after.loads, after.swaps, after.recent_swaps.map((s: { from: string; to: string }) => [s.from, s.to])]).toEqual([2, 1, [["llama3.2:latest", "mistral:latest"]]]);
  });

  test("a target 5xx is retried with back-off a bounded number of times, then fails", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, faults: { failLoad: ["mistral"] } }, foreman: { maxAttempts: 3, retryBaseMs: 10 } });
    const job = enqueue(foreman, "mistral");
    const [failed] = await settle(foreman, [job.id]);
    expect(failed!.status).toBe("failed");
    expect(failed!.error?.status).toBe(500);
    expect(failed!.error?.message).toContain("gave up after 3 attempts");
    expect(failed!.attempts).toBe(3);
    expect(foreman.services.queue.events(job.id).filter((e) => e.type === "queued")).toHaveLength(3);
  });

  test("a 5xx that clears up succeeds on a later attempt", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, faults: { busy: true } }, foreman: { maxAttempts: 5, retryBaseMs: 50 } });
    const job = enqueue(foreman, "llama3.2");
    await waitFor(() => foreman.services.queue.get(job.id)!.failures >= 1, { what: "a first failed attempt while the target is busy" });
    await sim.setFaults({ busy: false });
    const [done] = await settle(foreman, [job.id]);
    expect(done!.status).toBe("done");
    expect(done!.failures).toBeGreaterThanOrEqual(1);
  });

  test("a mid-stream target error is retried, and the job fails with the target's message when it persists", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, faults: { errorMidStream: { afterChunks: 2, message: "runner crashed" } } }, foreman: { maxAttempts: 2, retryBaseMs: 5 } });
    const job = enqueue(foreman, "llama3.2");
    const [failed] = await settle(foreman, [job.id]);
    expect(failed!.status).toBe("failed");
    expect(failed!.error?.message).toContain("runner crashed");
  });

  test("a hung target times out at the first byte and the job is retried, then fails", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, faults: { hung: true } }, foreman: { firstByteTimeoutMs: 100, maxAttempts: 2, retryBaseMs: 5, pollIntervalMs: 60_000 } });
    const job = enqueue(foreman, "llama3.2");
    const [failed] = await settle(foreman, [job.id]);
    expect(failed!.status).toBe("failed");
    expect(failed!.error?.status).toBe(504);
  });

  test("/status shows the queue by model and state, the resident model and swaps", async () => {
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 5, responseTokens: 1, maxLoaded: 1 } });
    const ids = [enqueue(foreman, "llama3.2").id, enqueue(foreman, "mistral").id];
    await settle(foreman, ids);
    const status = (await (await fetch(`${foreman.url}/status`)).json()) as Record<string, any>;
    expect(status.target.up).toBe(true);
    expect(status.target.resident[0]).toBe("mistral:latest");
    expect(status.worker.state).toBe("idle");
    expect(status.loads).toBe(2);
    expect(status.swaps).toBe(1);
    expect(status.queue.by_state.queued).toBe(0);
  });
});

describe("a target that breaks off", () => {
  test("a connection dropped mid-stream counts as a failed attempt: retried, then failed with the reason", async () => {
    let requests = 0;
    const target = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch(req) {
        if (new URL(req.url).pathname !== "/api/chat") return new Response(req.method === "GET" && new URL(req.url).pathname === "/api/ps" ? '{"models":[]}' : "Ollama is running");
        requests++;
        let sent = false;
        return new Response(
          new ReadableStream({
            async pull(c) {
              if (!sent) {
                sent = true;
                c.enqueue(new TextEncoder().encode(JSON.stringify({ model: "m", created_at: "x", message: { role: "assistant", content: "a" }, done: false }) + "\n"));
                await Bun.sleep(5);
              } else c.error(new Error("runner died"));
            },
          }),
          { headers: { "content-type": "application/x-ndjson" } },
        );
      },
    });
    start.defer(() => target.stop(true));
    const foreman = await start.foreman({ target: `http://127.0.0.1:${target.port}`, maxAttempts: 3, retryBaseMs: 5 });
    const job = enqueue(foreman, "m");
    const [failed] = await settle(foreman, [job.id]);
    expect(failed!.status).toBe("failed");
    expect(failed!.error?.status).toBe(502);
    expect(failed!.error?.message).toContain("dropped the connection mid-stream");
    expect(requests).toBe(3);
  });
});

describe("a target that stops answering mid-job", () => {
  test("the job goes back to the queue as soon as the liveness probe fails (no failure counted) and finishes later", async () => {
    const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, models: [{ name: "slow", loadMs: 2_000 }] }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 200, firstByteTimeoutMs: 600_000 } });
    const job = enqueue(foreman, "slow");
    await waitFor(() => foreman.services.queue.get(job.id)!.status === "loading", { what: "the job to be loading its model" });
    await sim.setFaults({ hung: true }); // like a Mac gone to sleep: connections hang
    await waitFor(() => foreman.services.queue.get(job.id)!.status === "queued", { what: "the job to be handed back to the queue" });
    expect(foreman.services.poller.up).toBe(false);
    await sim.setFaults({ hung: false });
    const [done] = await settle(foreman, [job.id]);
    expect(done!.status).toBe("done");
    expect(done!.failures).toBe(0);
    expect(done!.attempts).toBe(2);
  });
});
