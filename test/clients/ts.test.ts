import { afterAll, beforeAll, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ForemanClient, ForemanConnectionError, ForemanHttpError, ForemanUnreachableError, JobCanceledError, JobFailedError, JobTimeoutError, type Job } from "foreman/client";
import { sharedStack, waitFor } from "../harness.ts";
import { startProxy, type CuttableProxy } from "./proxy.ts";

setDefaultTimeout(60_000);

const stack = sharedStack({ sim: { tokenDelayMs: 5, loadMs: 20 }, foreman: { pollIntervalMs: 100, maxAttempts: 2, retryBaseMs: 50 } });
let proxy: CuttableProxy;
let client: ForemanClient;

const chat = (model = "llama3.2") => ({ request: { model, messages: [{ role: "user", content: "hi" }] } });

/** Jobs foreman holds, however they ended (this suite makes far fewer than a page). */
const jobCount = async () => (await client.list({ limit: 500 })).jobs.length;

beforeAll(async () => {
  proxy = await startProxy(stack.url);
  client = new ForemanClient({ baseUrl: stack.url });
});

afterAll(async () => {
  await proxy.stop();
});

beforeEach(async () => {
  await stack.sim.setFaults({ firstByteDelayMs: 0, failLoad: [] });
});

describe("ForemanClient.run()", () => {
  test("returns the artifact of a finished job", async () => {
    const reply = (await client.run(chat(), { timeout: 60_000 })) as { message: { role: string; content: string }; done: boolean };
    expect(reply.done).toBe(true);
    expect(reply.message.role).toBe("assistant");
    expect(reply.message.content.length).toBeGreaterThan(0);
  });

  test("an unknown model throws JobFailedError carrying the failed job and the target's message", async () => {
    const err = await client.run(chat("no-such-model")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    const job = (err as JobFailedError).job;
    expect(job.status).toBe("failed");
    expect(job.model).toBe("no-such-model");
    expect(job.error?.status).toBe(404);
    expect((err as Error).message).toContain("not found");
  });

  test("a model that fails to load throws JobFailedError", async () => {
    await stack.sim.setFaults({ failLoad: ["qwen2.5:0.5b"] });
    const err = await client.run(chat("qwen2.5:0.5b")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobFailedError);
    expect((err as JobFailedError).job.status).toBe("failed");
  });

  test("a timeout throws JobTimeoutError; the job is still there and not canceled", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 3000 });
    const err = await client.run(chat(), { timeout: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobTimeoutError);
    const timedOut = (err as JobTimeoutError).job;
    expect((err as Error).message).toContain("was not canceled");
    const later = await client.get(timedOut.id);
    expect(["queued", "loading", "working", "done"]).toContain(later.status);
    const finished = await client.get(timedOut.id, { wait: 60 });
    expect(finished.status).toBe("done");
  });

  test("a connection dropped mid-long-poll resumes without a second job", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 1500 });
    const viaProxy = new ForemanClient({ baseUrl: proxy.url });
    const before = await jobCount();
    const cuts = proxy.cuts();
    proxy.cutOnce(/^GET \/jobs\/[^ ]+\?wait=/, 200);
    const reply = (await viaProxy.run(chat(), { timeout: 60_000 })) as { done: boolean };
    expect(reply.done).toBe(true);
    expect(proxy.cuts()).toBe(cuts + 1);
    expect(await jobCount()).toBe(before + 1);
  });

  test("a submit whose reply is lost is re-sent with the same key and makes one job", async () => {
    const viaProxy = new ForemanClient({ baseUrl: proxy.url });
    const before = await jobCount();
    const cuts = proxy.cuts();
    proxy.cutOnce(/^POST \/jobs /, "reply");
    const reply = (await viaProxy.run(chat(), { timeout: 60_000 })) as { done: boolean };
    expect(reply.done).toBe(true);
    expect(proxy.cuts()).toBe(cuts + 1);
    expect(await jobCount()).toBe(before + 1);
  });

  test("an aborted signal rejects run() and leaves the job alone", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 2000 });
    const controller = new AbortController();
    const running = client.run(chat(), { signal: controller.signal, idempotencyKey: "abort-me" });
    // abort once the job is accepted, while run() waits for it
    await waitFor(() => stack.foreman.services.store.db.query("SELECT id FROM jobs WHERE idempotency_key = ?").get("abort-me"), { what: "the job run() submitted" });
    controller.abort(new Error("caller gave up"));
    await expect(running).rejects.toThrow("caller gave up");
    await running.catch(() => {});
    const job = await client.submit(chat(), { idempotencyKey: "abort-me" });
    expect(job.status).not.toBe("canceled");
  });
});

describe("ForemanClient operations", () => {
  test("submit, get with wait, artifact", async () => {
    const job = await client.submit({ endpoint: "/api/generate", request: { model: "llama3.2", prompt: "hello" }, metadata: { ticket: 7 }, priority: 3 });
    expect(job.status).toBe("queued");
    expect(job.endpoint).toBe("/api/generate");
    expect(job.metadata).toEqual({ ticket: 7 });
    const done = await client.get(job.id, { wait: 60 });
    expect(done.status).toBe("done");
    const artifact = (await client.artifact(job.id)) as { response: string };
    expect(typeof artifact.response).toBe("string");
  });

  test("the same idempotency key returns the same job; another body is a ForemanHttpError 422", async () => {
    const a = await client.submit(chat(), { idempotencyKey: "same-key" });
    const b = await client.submit(chat(), { idempotencyKey: "same-key" });
    expect(b.id).toBe(a.id);
    const err = await client.submit(chat("mistral"), { idempotencyKey: "same-key" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForemanHttpError);
    expect((err as ForemanHttpError).status).toBe(422);
    expect((err as ForemanHttpError).field).toBe("/headers/idempotency-key");
  });

  test("an invalid submission is a ForemanHttpError naming the field", async () => {
    const err = await client.submit({ request: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForemanHttpError);
    expect((err as ForemanHttpError).status).toBe(422);
    expect((err as ForemanHttpError).field).toStartWith("/request");
  });

  test("cancel a queued job; canceling it again is a 409; run() on a canceled job throws JobCanceledError", async () => {
    await stack.sim.setFaults({ firstByteDelayMs: 2000 });
    const blocker = await client.submit(chat());
    const job = await client.submit(chat("mistral"));
    const canceled = await client.cancel(job.id);
    expect(canceled.status).toBe("canceled");
    const again = await client.cancel(job.id).catch((e: unknown) => e);
    expect((again as ForemanHttpError).status).toBe(409);
    await client.cancel(blocker.id);
    const key = "canceled-run";
    const queued = await client.submit(chat(), { idempotencyKey: key });
    await client.cancel(queued.id);
    const err = await client.run(chat(), { idempotencyKey: key }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobCanceledError);
    expect((err as JobCanceledError).job.id).toBe(queued.id);
  });

  test("a queued job carries its position and eta (or why it has none) through the client", async () => {
    await client.run(chat());
    await stack.sim.setFaults({ firstByteDelayMs: 2000 });
    const blocker = await client.submit(chat());
    await waitFor(async () => (await client.get(blocker.id)).status !== "queued", { what: "the first job to leave the queue" });
    const known = await client.submit(chat());
    const unseen = await client.submit(chat("qwen3:0.6b"));
    try {
      const [a, b] = await Promise.all([client.get(known.id), client.get(unseen.id)]);
      expect({ position: a.queue_position, reason: a.eta_reason }).toEqual({ position: 0, reason: null });
      expect(Date.parse(a.eta!.finish_at)).toBeGreaterThanOrEqual(Date.parse(a.eta!.start_at));
      expect({ position: b.queue_position, eta: b.eta, reason: b.eta_reason }).toEqual({ position: 1, eta: null, reason: "no_history" });
      const listed = (await client.list({ status: "queued" })).jobs.find((j) => j.id === known.id);
      expect({ position: listed?.queue_position, timed: listed?.eta !== null }).toEqual({ position: 0, timed: true });
    } finally {
      for (const job of [blocker, known, unseen]) await client.cancel(job.id).catch(() => {});
    }
  });

  test("get of an unknown job is a 404 ForemanHttpError", async () => {
    const err = await client.get("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForemanHttpError);
    expect((err as ForemanHttpError).status).toBe(404);
  });

  test("an unreachable foreman is a ForemanConnectionError: a ForemanUnreachableError naming the address", async () => {
    const gone = new ForemanClient({ baseUrl: "http://127.0.0.1:9" });
    const err = await gone.get("x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForemanConnectionError);
    expect(err).toBeInstanceOf(ForemanUnreachableError);
    expect((err as ForemanUnreachableError).url).toBe("http://127.0.0.1:9");
  });

  test("the token is sent as a bearer token", async () => {
    const seen: string[] = [];
    const spy = new ForemanClient({
      baseUrl: stack.url,
      token: "s3cret",
      fetch: (url, init) => {
        seen.push(new Headers(init.headers).get("authorization") ?? "");
        return fetch(url, init);
      },
    });
    const job: Job = await spy.submit(chat());
    expect(job.id).toBeString();
    expect(seen).toEqual(["Bearer s3cret"]);
  });
});
