// A request the target drops before its first byte (a connection reset: what a crash or an
// out-of-memory kill of Ollama looks like) is re-sent a bounded number of times, in both
// lanes; after that the passthrough caller gets the cut it would get from Ollama directly and
// the job fails saying the target dropped it. The simulator's `dropWhen` fault drops the one
// request that carries a marker, every time (ADR 0030).
import { describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import OpenAI from "openai";
import { MAX_RESENDS } from "../../src/engine/resend.ts";
import { ASYNC, INTERACTIVE } from "../../src/queue/queue.ts";
import { perTest, postJob, waitFor, type Stack } from "../harness.ts";

const start = perTest();
const MARKER = "KILL-THE-RUNNER";
const chat = (content: string) => JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content }], stream: false });

/** A long poll interval: a target marked down by mistake would stay down for the whole test. */
const stack = (): Promise<Stack> => start.stack({ sim: { faults: { dropWhen: MARKER } }, foreman: { pollIntervalMs: 60_000, pollMaxBackoffMs: 60_000, interactiveMaxWaitMs: 60_000 } });

/** How a fetch that got no reply failed: its error code, or what it got instead. */
async function cutOf(url: string, requestId: string): Promise<string> {
  try {
    const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-request-id": requestId }, body: chat(MARKER) });
    return `a reply: ${res.status} ${await res.text()}`;
  } catch (err) {
    return `cut: ${(err as { code?: string }).code}`;
  }
}

const recordOf = (s: Stack, requestId: string) => s.foreman.services.queue.list({ lane: INTERACTIVE, limit: 50 }).find((j) => j.requestId === requestId);

describe("a request the target drops before its first byte", () => {
  test("passthrough: re-sent a bounded number of times, then the caller gets the cut as it would directly", async () => {
    const s = await stack();
    const direct = await cutOf(`${s.sim.url}/api/chat`, "direct-call");
    expect(direct).toBe("cut: ECONNRESET");
    s.sim.resetCounters();
    expect(await cutOf(`${s.url}/api/chat`, "killer-request")).toBe(direct);
    expect(s.sim.counters.dropped).toBe(1 + MAX_RESENDS);
    const record = recordOf(s, "killer-request");
    expect(record?.status).toBe("failed");
    expect(record?.error?.message).toContain("dropped");
  });

  test("the SDKs see the same error through foreman as against the target directly", async () => {
    const s = await stack();
    const messages = [{ role: "user" as const, content: MARKER }];
    const how = (err: unknown) => ({ name: (err as Error).constructor.name, code: (err as { code?: string }).code, cause: ((err as { cause?: { code?: string } }).cause)?.code });
    const viaOllama = async (host: string) => how(await new Ollama({ host }).chat({ model: "llama3.2", messages }).catch((e: unknown) => e));
    const viaOpenAI = async (base: string) => how(await new OpenAI({ baseURL: `${base}/v1`, apiKey: "x", maxRetries: 0 }).chat.completions.create({ model: "llama3.2", messages }).catch((e: unknown) => e));
    const direct = { ollama: await viaOllama(s.sim.url), openai: await viaOpenAI(s.sim.url) };
    expect(direct.openai.name).toBe("APIConnectionError");
    expect({ ollama: await viaOllama(s.url), openai: await viaOpenAI(s.url) }).toEqual(direct);
  });

  test("passthrough: a dropped re-send goes to the back, so a healthy chat queued behind it is served first", async () => {
    const s = await stack();
    // the worker held while the two requests queue, the one that kills the target first
    const { worker, queue } = s.foreman.services;
    await worker.stop();
    const post = (content: string, requestId: string) => fetch(`${s.url}/api/chat`, { method: "POST", headers: { "content-type": "application/json", "x-request-id": requestId }, body: chat(content) });
    const killer = cutOf(`${s.url}/api/chat`, "killer-request");
    await waitFor(() => queue.waitingInteractive() === 1, { what: "the killer to queue" });
    const healthy = post("hello", "healthy-request");
    await waitFor(() => queue.waitingInteractive() === 2, { what: "the healthy chat to queue" });
    worker.start();
    const res = await healthy;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
    expect(await killer).toBe("cut: ECONNRESET");
    expect(s.sim.counters.dropped).toBe(1 + MAX_RESENDS);
    const served = recordOf(s, "healthy-request")!;
    const killed = recordOf(s, "killer-request")!;
    expect(served.status).toBe("done");
    expect(killed.status).toBe("failed");
    expect(served.finishedAt!).toBeLessThanOrEqual(killed.finishedAt!);
    // sent once keeping its place, then from the back
    const requeues = s.foreman.services.queue.events(killed.id).filter((e) => e.type === "queued" && e.data?.drops !== undefined);
    expect(requeues.map((e) => e.data?.drops)).toEqual([1, 2]);
  });

  test("metadata is not declared down by a reset the next liveness probe contradicts", async () => {
    const s = await stack();
    await waitFor(() => s.foreman.services.poller.up === true, { what: "the poller to see the target" });
    expect(await cutOf(`${s.url}/api/chat`, "killer-request")).toBe("cut: ECONNRESET");
    const res = await fetch(`${s.url}/api/version`);
    expect(res.status).toBe(200);
    expect(s.foreman.services.poller.up).toBe(true);
  });

  test("async job: fails after the bounded re-sends, with a reason that says the target dropped it", async () => {
    const s = await stack();
    const { status, job } = await postJob(s.url, { endpoint: "/api/chat", request: { model: "llama3.2", messages: [{ role: "user", content: MARKER }] } });
    expect(status).toBe(202);
    const ended = await waitFor(async () => {
      const j = (await (await fetch(`${s.url}/jobs/${job.id}`)).json()) as { status: string; error?: { message: string } };
      return j.status === "failed" && j;
    }, { what: "the job to fail", timeoutMs: 20_000 });
    expect(ended.error?.message).toMatch(/dropped/);
    expect(s.sim.counters.dropped).toBe(1 + MAX_RESENDS);
    // the next job runs
    const next = await postJob(s.url, { endpoint: "/api/chat", request: { model: "llama3.2", messages: [{ role: "user", content: "hello" }] } });
    await waitFor(async () => ((await (await fetch(`${s.url}/jobs/${next.job.id}`)).json()) as { status: string }).status === "done", { what: "the next job to be done" });
  });

  test("async job: a re-send dropped again goes behind the jobs queued after it", async () => {
    const s = await stack();
    const { worker, queue } = s.foreman.services;
    await worker.stop();
    const [killer, healthy] = queue.atomically(() =>
      [MARKER, "hello"].map((content) => queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: chat(content) }).id),
    );
    worker.start();
    const failed = await waitFor(() => queue.get(killer!)!.status === "failed" && queue.get(killer!)!, { what: "the killer job to fail" });
    const done = queue.get(healthy!)!;
    expect(done.status).toBe("done");
    expect(done.finishedAt!).toBeLessThanOrEqual(failed.finishedAt!);
    expect(failed.failures).toBe(1);
  });
});
