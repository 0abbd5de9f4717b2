import { afterEach, describe, expect, test } from "bun:test";
import { Estimates, type WorkerOutlook } from "../../src/engine/estimates.ts";
import { ASYNC } from "../../src/queue/queue.ts";
import type { Job } from "../../src/queue/view.ts";
import { chatRequest, getJob, perTest, postJob, seededRandom, testQueue, waitFor, workerBusy, type Stack, type TestQueue } from "../harness.ts";

const start = perTest();
const MODELS = ["llama3.2", "mistral", "qwen2.5:0.5b"];

/** The worker held by a job whose target request never answers (the simulator hung): what is posted after it stays queued. */
async function holdWorker(stack: Stack, model: string): Promise<Job> {
  await stack.sim.setFaults({ hung: true });
  const { job } = await postJob(stack.url, { request: chatRequest(model) });
  await waitFor(() => workerBusy(stack.foreman), { what: "the worker to take the holding job" });
  return job;
}

/** Lets the worker go: the target answers again, and the holding job is canceled. */
async function release(stack: Stack, holding: Job): Promise<void> {
  await stack.sim.setFaults({ hung: false });
  await fetch(`${stack.url}/jobs/${holding.id}/cancel`, { method: "POST" });
}

const queued = async (url: string): Promise<Job[]> => ((await (await fetch(`${url}/jobs?status=queued&limit=100`)).json()) as { jobs: Job[] }).jobs;

describe("estimates on the job API", () => {
  test("on a fresh database a queued job has a position but no eta, and says why", async () => {
    const stack = await start.stack();
    const holding = await holdWorker(stack, "llama3.2");
    const { job: posted } = await postJob(stack.url, { request: chatRequest("llama3.2") });
    expect({ position: posted.queue_position, eta: posted.eta, reason: posted.eta_reason }).toEqual({ position: 0, eta: null, reason: "no_history" });
    const [listed] = await queued(stack.url);
    expect({ id: listed!.id, position: listed!.queue_position, eta: listed!.eta, reason: listed!.eta_reason }).toEqual({ id: posted.id, position: 0, eta: null, reason: "no_history" });
    // once it runs, it has no standing at all
    await release(stack, holding);
    const done = await getJob(stack.url, posted.id, 10);
    expect({ status: done.status, position: done.queue_position, eta: done.eta, reason: done.eta_reason }).toEqual({ status: "done", position: null, eta: null, reason: null });
  });

  test("queue_position and the eta follow the order in which the jobs then start", async () => {
    // the poller does not poll during the test: the resident list is the worker's own, the same
    // one the estimate starts from (a poll in between could reorder it)
    const stack = await start.stack({ sim: { maxLoaded: 3, tokenDelayMs: 2 }, foreman: { pollIntervalMs: 3_600_000 } });
    const random = seededRandom("estimates order");
    // history: every model finished a job
    for (const model of MODELS) expect((await postJob(stack.url, { request: chatRequest(model) }, { prefer: "wait=10" })).job.status).toBe("done");
    const holding = await holdWorker(stack, MODELS.at(-1)!);
    const backlog: Job[] = [];
    for (let i = 0; i < 15; i++) {
      const model = MODELS[Math.floor(random() * MODELS.length)]!;
      backlog.push((await postJob(stack.url, { request: chatRequest(model, `question ${i}`), priority: random() < 0.3 ? 5 : 0 })).job);
    }
    const estimated = (await queued(stack.url)).sort((a, b) => a.queue_position! - b.queue_position!);
    expect(estimated.map((j) => j.queue_position)).toEqual(backlog.map((_, i) => i));
    for (const [i, j] of estimated.entries()) {
      expect(j.eta_reason).toBeNull();
      expect(Date.parse(j.eta!.finish_at)).toBeGreaterThanOrEqual(Date.parse(j.eta!.start_at));
      if (i > 0) expect(Date.parse(j.eta!.start_at)).toBeGreaterThanOrEqual(Date.parse(estimated[i - 1]!.eta!.finish_at));
    }
    await release(stack, holding);
    const ran = await Promise.all(backlog.map((j) => getJob(stack.url, j.id, 30)));
    expect(ran.map((j) => j.status)).toEqual(backlog.map(() => "done"));
    const started = [...ran].sort((a, b) => Date.parse(a.started_at!) - Date.parse(b.started_at!) || a.id.localeCompare(b.id));
    expect(started.map((j) => `${j.id} ${j.model}`)).toEqual(estimated.map((j) => `${j.id} ${j.model}`));
  });
});

describe("Estimates: bounded and cached", () => {
  let open: TestQueue | undefined;
  afterEach(() => open?.remove());
  const idle: WorkerOutlook = { resident: [], agingCapMs: 600_000, leftAt: {}, running: null };

  /** A queue on a clock, with one finished job of llama3.2 as history, and `queued` jobs waiting. */
  function setUp(queued: number) {
    const clock = { now: 1_000_000 };
    const t = (open = testQueue(() => clock.now));
    const done = t.queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: "{}" });
    t.queue.transition(done.id, "working", { attempt: true });
    t.queue.transition(done.id, "done", { timings: { ttftMs: 50, totalMs: 1050 }, progress: { chunks: 10, tokens: 10 } });
    const jobs = Array.from({ length: queued }, () => t.queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: "{}" }));
    return { clock, queue: t.queue, jobs };
  }

  test("past the horizon a job has no eta, and a position of at least the horizon", () => {
    const { clock, queue, jobs } = setUp(5);
    const estimates = new Estimates(queue, { outlook: () => idle }, { horizon: 3, ttlMs: 1000, history: 100 }, () => clock.now);
    expect(jobs.map((j) => estimates.of(queue.get(j.id)!))).toEqual([
      { position: 0, eta: { startAt: 1_000_000, finishAt: 1_001_050 }, etaReason: null },
      { position: 1, eta: { startAt: 1_001_050, finishAt: 1_002_100 }, etaReason: null },
      { position: 2, eta: { startAt: 1_002_100, finishAt: 1_003_150 }, etaReason: null },
      { position: 3, eta: null, etaReason: "beyond_horizon" },
      { position: 4, eta: null, etaReason: "beyond_horizon" },
    ]);
    // what POST /jobs already counted is taken instead of a count
    expect(estimates.of(queue.get(jobs[4]!.id)!, 7).position).toBe(7);
  });

  test("one forecast serves until a job event commits, a second passes, or a job queued since is asked about", () => {
    const { clock, queue, jobs } = setUp(2);
    let asked = 0;
    const estimates = new Estimates(queue, { outlook: () => (asked++, idle) }, { horizon: 10, ttlMs: 1000, history: 100 }, () => clock.now);
    const first = estimates.forecast();
    clock.now += 999;
    expect(estimates.forecast()).toBe(first);
    expect(estimates.of(queue.get(jobs[0]!.id)!).position).toBe(0);
    expect(asked).toBe(1);
    clock.now += 1;
    const second = estimates.forecast();
    expect(second).not.toBe(first);
    // a job event (here: the first job canceled) makes the next one anew
    queue.transition(jobs[0]!.id, "canceled");
    expect(estimates.of(queue.get(jobs[1]!.id)!).position).toBe(0);
    expect(asked).toBe(3);
    // a job queued after the forecast, asked about before its event is out (inside its transaction)
    estimates.forecast();
    const late = queue.atomically(() => {
      const job = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: "{}" });
      return estimates.of(job);
    });
    expect(late).toMatchObject({ position: 1, etaReason: null });
  });

  test("the running job: work behind it waits for its expected end, and its model is then resident", () => {
    const { clock, queue, jobs } = setUp(1);
    const running = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: "{}" });
    const outlook: WorkerOutlook = { ...idle, running: { job: queue.transition(running.id, "working", { attempt: true }), since: clock.now - 300, load: false } };
    const estimates = new Estimates(queue, { outlook: () => outlook }, { horizon: 10, ttlMs: 1000, history: 100 }, () => clock.now);
    // 1,050 ms expected, 300 gone: it ends in 750; the next needs no load
    expect(estimates.of(queue.get(jobs[0]!.id)!)).toEqual({ position: 0, eta: { startAt: clock.now + 750, finishAt: clock.now + 1800 }, etaReason: null });
  });
});
