// Per-job back-off (ADR 0017): a job the target keeps answering with a 5xx waits out its own
// back-off in the queue; the worker, the interactive lane and other models' jobs go on.
import { afterEach, describe, expect, test } from "bun:test";
import type { Job } from "../../src/queue/view.ts";
import { startStack, waitFor, type Stack } from "../harness.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const chat = (model: string) => ({ model, messages: [{ role: "user", content: "hello" }] });

async function submit(url: string, model: string, wait?: number): Promise<Response> {
  return fetch(`${url}/jobs`, { method: "POST", headers: wait ? { prefer: `wait=${wait}` } : {}, body: JSON.stringify({ request: chat(model) }) });
}

const getJob = async (url: string, id: string) => (await (await fetch(`${url}/jobs/${id}`)).json()) as Job;

describe("a job the target keeps failing", () => {
  test("backs off alone: an interactive request and another model's job run meanwhile, and /status does not call the worker paused", async () => {
    // a back-off of ten minutes: were the worker to wait it out, nothing below would finish
    stack = await startStack({ sim: { faults: { failLoad: ["mistral"] } }, foreman: { retryBaseMs: 600_000, maxAttempts: 3 } });
    const { url } = stack;
    const failing = (await (await submit(url, "mistral")).json()) as Job;
    const backingOff = await waitFor(
      async () => {
        const job = await getJob(url, failing.id);
        return job.attempts === 1 && job.status === "queued" && job.retry_at !== null ? job : null;
      },
      { what: "the mistral job to fail once and go back to the queue with a retry time" },
    );
    expect(Date.parse(backingOff.retry_at!)).toBeGreaterThan(Date.now());

    const status = (await (await fetch(`${url}/status`)).json()) as { worker: { state: string; reason?: string } };
    expect(status.worker.state).not.toBe("paused");

    const interactive = await fetch(`${url}/api/chat`, { method: "POST", body: JSON.stringify({ ...chat("llama3.2"), stream: false }) });
    expect(interactive.status).toBe(200);
    expect(((await interactive.json()) as { done: boolean }).done).toBe(true);

    const other = await submit(url, "qwen2.5:0.5b", 30);
    expect(other.status).toBe(200);
    expect(((await other.json()) as Job).status).toBe("done");

    const still = await getJob(url, failing.id);
    expect(still.status).toBe("queued");
    expect(still.attempts).toBe(1);
    expect(still.retry_at).toBe(backingOff.retry_at);
  });

  test("runs again when its back-off ends and fails once its attempts run out; each retry says when", async () => {
    stack = await startStack({ sim: { faults: { failLoad: ["mistral"] } }, foreman: { retryBaseMs: 20, maxAttempts: 3 } });
    const { url } = stack;
    const job = (await (await submit(url, "mistral")).json()) as Job;
    const failed = await waitFor(
      async () => {
        const j = await getJob(url, job.id);
        return j.status === "failed" ? j : null;
      },
      { what: "the mistral job to run out of attempts" },
    );
    expect(failed.attempts).toBe(3);
    expect(failed.retry_at).toBeNull();
    expect(failed.error?.status).toBe(500);
    expect(failed.error?.message).toContain("gave up after 3 attempts");
    const retries = stack.foreman.services.queue.events(job.id).filter((e) => e.type === "queued" && e.data?.retry_in_ms !== undefined);
    expect(retries.map((e) => e.data!.retry_in_ms)).toEqual([20, 40]);
    for (const e of retries) expect(Date.parse(e.data!.retry_at as string)).toBe(e.at + (e.data!.retry_in_ms as number));
  });

  test("a canceled job stops backing off", async () => {
    stack = await startStack({ sim: { faults: { failLoad: ["mistral"] } }, foreman: { retryBaseMs: 600_000, maxAttempts: 3 } });
    const { url } = stack;
    const job = (await (await submit(url, "mistral")).json()) as Job;
    await waitFor(async () => (await getJob(url, job.id)).retry_at !== null, { what: "the job to back off" });
    const canceled = await fetch(`${url}/jobs/${job.id}/cancel`, { method: "POST" });
    expect(canceled.status).toBe(200);
    expect(((await canceled.json()) as Job).retry_at).toBeNull();
    expect(stack.foreman.services.queue.nextRelease()).toBeNull();
  });
});
