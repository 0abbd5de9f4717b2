// A slow or dead receiver delays only its own deliveries: concurrency is counted per
// destination under a global cap one destination cannot fill. And 410 Gone stops a delivery
// at once instead of retrying it for a day.
import { afterEach, describe, expect, spyOn, test } from "bun:test";
import type { StartOptions } from "../../src/server.ts";
import { Deliveries } from "../../src/webhooks/deliveries.ts";
import { startStack, waitFor, type Stack } from "../harness.ts";
import { chatRequest, getJob, postJob } from "../harness.ts";
import { deliveriesOf, startReceiver, type Receiver } from "./receivers.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

function receiver(answer?: Parameters<typeof startReceiver>[0]): Receiver {
  const r = startReceiver(answer);
  cleanup.push(() => r.stop());
  return r;
}

async function stack(webhooks: StartOptions["webhooks"]): Promise<Stack> {
  const s = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { webhooks } });
  cleanup.push(() => s.stop());
  return s;
}

describe("webhook concurrency per destination", () => {
  test("a receiver that never answers, with many deliveries waiting for it, does not hold up a healthy one", async () => {
    const dead = receiver(() => "hang");
    const healthy = receiver();
    // attempts to the dead receiver outlast the test: none of them finishes
    const s = await stack({ timeoutMs: 120_000 });
    const stuck: string[] = [];
    for (let i = 0; i < 30; i++) stuck.push((await postJob(s.url, { request: chatRequest("llama3.2", `dead ${i}`), webhook: dead.url })).job.id);
    for (const id of stuck) expect((await getJob(s.url, id, 30)).status).toBe("done");
    await waitFor(() => dead.open === 1, { what: "a request held open by the dead receiver" });

    const { job } = await postJob(s.url, { request: chatRequest("llama3.2", "healthy"), webhook: healthy.url });
    const got = await waitFor(() => (healthy.hits.some((h) => h.json.type === "job.done") ? healthy.hits : null), { what: "the healthy receiver's job.done", timeoutMs: 30_000 });
    expect(got.map((h) => h.json.data.id)).toEqual(got.map(() => job.id));

    // ...while every delivery to the dead receiver is still pending, none of its attempts finished
    const all = (await Promise.all(stuck.map((id) => deliveriesOf(s.url, id)))).flat();
    expect(all.length).toBeGreaterThanOrEqual(stuck.length * 3);
    expect(all.filter((d) => d.status !== "pending")).toEqual([]);
    expect(all.flatMap((d) => d.attempts)).toEqual([]);
    // and it never had more than it had proven it could use open at once: one, as it never answered
    expect(dead.maxOpen).toBe(1);
  }, 90_000);

  test("more dead destinations than the global cap holds in shares: each holds one request, and a healthy receiver still gets through", async () => {
    const dead = Array.from({ length: 6 }, () => receiver(() => "hang"));
    const healthy = receiver();
    // a global cap of 8, 4 per destination: before the breaker, two dead receivers filled it
    const s = await stack({ timeoutMs: 120_000, concurrency: 8, perDestination: 4 });
    for (const [i, d] of dead.entries()) for (let j = 0; j < 3; j++) await postJob(s.url, { request: chatRequest("llama3.2", `dead ${i}.${j}`), webhook: { url: d.url, events: ["job.queued"] } });
    await waitFor(() => dead.every((d) => d.open === 1), { what: "one request held open by each dead receiver" });
    const { job } = await postJob(s.url, { request: chatRequest("llama3.2", "healthy"), webhook: { url: healthy.url, events: ["job.done"] } });
    await waitFor(() => healthy.hits.some((h) => h.json.type === "job.done" && h.json.data.id === job.id), { what: "the healthy receiver's job.done", timeoutMs: 30_000 });
    expect(dead.map((d) => d.maxOpen)).toEqual(dead.map(() => 1));
  }, 60_000);

  test("a destination that stops answering gets one probe at a time until it answers, then everything waiting goes out", async () => {
    // silent: holds each request until foreman gives up on it, counting how many are open at once
    let silent = true;
    const flaky = { hits: 0, open: 0, maxOpen: 0 };
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      idleTimeout: 0,
      async fetch(req) {
        flaky.hits++;
        if (!silent) return new Response("ok");
        flaky.maxOpen = Math.max(flaky.maxOpen, ++flaky.open);
        await new Promise((gone) => req.signal.addEventListener("abort", gone));
        flaky.open--;
        return new Response("too late", { status: 503 });
      },
    });
    cleanup.push(() => server.stop(true));
    const url = `http://127.0.0.1:${server.port}/hook`;
    const s = await stack({ timeoutMs: 300, schedule: [50, 50, 50, 50, 50, 50, 50, 50, 50, 50], perDestination: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await postJob(s.url, { request: chatRequest("llama3.2", `flaky ${i}`), webhook: { url, events: ["job.queued"] } })).job.id);
    await waitFor(() => flaky.hits >= 6, { what: "six attempts that timed out", timeoutMs: 30_000 });
    silent = false;
    await waitFor(async () => (await Promise.all(ids.map((id) => deliveriesOf(s.url, id)))).every((d) => d[0]?.status === "delivered"), { what: "every delivery, once the receiver answers", timeoutMs: 30_000 });
    expect(flaky.maxOpen).toBe(1);
  }, 60_000);

  test("a job's deliveries still go out one at a time, in order, with several jobs to one receiver at once", async () => {
    const hook = receiver();
    const s = await stack({ timeoutMs: 5000 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await postJob(s.url, { request: chatRequest("llama3.2", `n${i}`), webhook: hook.url })).job.id);
    await waitFor(() => ids.every((id) => hook.hits.some((h) => h.json.data.id === id && h.json.type === "job.done")), { what: "every job's job.done" });
    const order = ["job.queued", "job.loading", "job.working", "job.done"];
    for (const id of ids) {
      const types = hook.hits.filter((h) => h.json.data.id === id).map((h) => h.json.type);
      expect(types).toEqual(order.filter((t) => types.includes(t)));
    }
  });
  test("while a delivery hangs and nothing else changes, the dispatcher does no work (it does not spin on its timer)", async () => {
    const dead = receiver(() => "hang");
    const s = await stack({ timeoutMs: 120_000 });
    const { job } = await postJob(s.url, { request: chatRequest(), webhook: { url: dead.url, events: ["job.queued", "job.done"] } });
    expect((await getJob(s.url, job.id, 30)).status).toBe("done");
    await waitFor(() => dead.open === 1, { what: "job.queued held open by the receiver" });
    const looks = spyOn(Deliveries.prototype, "due");
    try {
      // job.done waits behind job.queued, which waits on the receiver: a hundred round trips
      // through the event loop later, the dispatcher has not looked at the table once
      for (let i = 0; i < 100; i++) await fetch(`${s.url}/healthz`);
      expect(looks).toHaveBeenCalledTimes(0);
    } finally {
      looks.mockRestore();
    }
  });
});

describe("410 Gone", () => {
  test("stops the delivery at once — failed, saying why, not retried — and the job's next event follows", async () => {
    const hook = receiver((hit) => (hit.json.type === "job.queued" ? 410 : 200));
    const s = await stack({ schedule: [10, 10, 10, 10, 10], timeoutMs: 5000 });
    const { job } = await postJob(s.url, { request: chatRequest(), webhook: { url: hook.url, events: ["job.queued", "job.done"] } });
    await waitFor(() => hook.hits.some((h) => h.json.type === "job.done"), { what: "job.done after the refused job.queued" });
    expect(hook.hits.map((h) => h.json.type)).toEqual(["job.queued", "job.done"]);
    // the receiver answers before foreman records the attempt
    const [queued, done] = await waitFor(async () => {
      const d = await deliveriesOf(s.url, job.id);
      return d[1]?.status === "delivered" ? d : null;
    }, { what: "job.done recorded as delivered" });
    expect(queued!.status).toBe("failed");
    expect(queued!.attempts).toEqual([{ status: 410, error: "receiver answered 410 Gone: delivery stopped, not retried" }].map((a) => expect.objectContaining(a)));
    expect(done!.status).toBe("delivered");
    const row = s.foreman.services.store.db.query("SELECT status, last_status, last_error FROM webhook_deliveries WHERE job_id = ? AND event_type = 'job.queued'").get(job.id);
    expect(row).toEqual({ status: "failed", last_status: 410, last_error: "receiver answered 410 Gone: delivery stopped, not retried" });
  });

  test("other refusals are still retried", async () => {
    const hook = receiver((_hit, i) => (i === 0 ? 404 : 200));
    const s = await stack({ schedule: [10, 10], timeoutMs: 5000 });
    const { job } = await postJob(s.url, { request: chatRequest(), webhook: { url: hook.url, events: ["job.queued"] } });
    await waitFor(() => hook.hits.length === 2, { what: "the retry after a 404" });
    await waitFor(async () => (await deliveriesOf(s.url, job.id))[0]?.status === "delivered", { what: "the delivery to be delivered" });
    expect((await deliveriesOf(s.url, job.id))[0]!.attempts.map((a) => a.status)).toEqual([404, 200]);
  });
});
