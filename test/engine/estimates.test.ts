import { describe, expect, test } from "bun:test";
import type { Job } from "../../src/queue/view.ts";
import { chatRequest, getJob, perTest, postJob, seededRandom, waitFor, workerBusy, type Stack } from "../harness.ts";

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
