// Webhooks reach a real receiver, signed so that the official standardwebhooks package
// verifies them; failures are retried; the outbox survives a SIGKILL.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { startSimulator } from "../../src/sim/index.ts";
import { chatRequest, getJob, perTest, postJob, spawnForeman, tempDir, waitFor } from "../harness.ts";
import { startReceiver } from "./receiver.ts";

const SECRET = "whsec_" + Buffer.from("a test secret that is long enough").toString("base64");
const FAST = { schedule: [20, 40, 80, 160, 320], timeoutMs: 2000 };

const start = perTest();
/** A webhook receiver on loopback, stopped after the test (after foreman: the newest stops first). */
function receiverFor(opts?: Parameters<typeof startReceiver>[0]) {
  const receiver = startReceiver(opts);
  start.defer(() => receiver.stop());
  return receiver;
}

describe("webhooks", () => {
  test("every state change reaches the receiver in order, signed per Standard Webhooks", async () => {
    const receiver = receiverFor();
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 1, loadMs: 5 }, foreman: { webhookSecret: SECRET }, start: { webhooks: FAST } });
    const { status, job } = await postJob(foreman.url, { request: chatRequest(), webhook: receiver.url, metadata: { ticket: 7 } });
    expect(status).toBe(202);
    const got = await receiver.until((r) => r.some((x) => x.json.type === "job.done"));
    expect(got.map((r) => r.json.type)).toEqual(["job.queued", "job.loading", "job.working", "job.done"]);
    const wh = new Webhook(SECRET);
    for (const r of got) {
      const verified = wh.verify(r.body, Object.fromEntries(r.headers)) as { data: { id: string } };
      expect(verified.data.id).toBe(job.id);
      expect(r.headers.get("webhook-signature")).toStartWith("v1,");
    }
    expect(new Set(got.map((r) => r.headers.get("webhook-id"))).size).toBe(4);
    const done = got.at(-1)!.json;
    expect(done.data.status).toBe("done");
    expect(done.data.metadata).toEqual({ ticket: 7 });
    expect(Object.keys(done.data.timings ?? {})).toEqual(expect.arrayContaining(["queue_ms", "load_ms", "ttft_ms", "total_ms"]));
    const artifact = await (await fetch(`${foreman.url}/jobs/${job.id}/artifact`)).json();
    expect(done.data.artifact).toEqual(artifact);
    expect(got[0]!.json.data.status).toBe("queued");
    // a tampered body does not verify
    expect(() => wh.verify(got[0]!.body.replace("queued", "done"), Object.fromEntries(got[0]!.headers))).toThrow();
  });

  test("the events filter limits deliveries; deliveries and their attempts are listed", async () => {
    const receiver = receiverFor({ failFirst: 2 });
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { webhooks: FAST } });
    const { job } = await postJob(foreman.url, { request: chatRequest(), webhook: { url: receiver.url, events: ["job.done"] } });
    const got = await receiver.until((r) => r.length >= 1);
    expect(got.map((r) => r.json.type)).toEqual(["job.done"]);
    expect(got[0]!.headers.get("webhook-signature")).toBeNull(); // no secret configured: unsigned
    // the receiver answers before foreman records the attempt
    const { deliveries } = await waitFor(async () => {
      const listed = (await (await fetch(`${foreman!.url}/jobs/${job.id}/deliveries`)).json()) as { deliveries: { event: string; status: string; attempts: { status: number }[] }[] };
      return listed.deliveries[0]?.status === "pending" ? null : listed;
    }, { what: "the delivery recorded" });
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]!.status).toBe("delivered");
    expect(deliveries[0]!.attempts.map((a) => a.status)).toEqual([500, 500, 200]);
  });

  test("a receiver that is down for a stretch gets every event afterwards, in order per job", async () => {
    const receiver = receiverFor();
    receiver.setDown(true);
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { webhooks: { schedule: Array(30).fill(30), timeoutMs: 2000 } } });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await postJob(foreman.url, { request: chatRequest("llama3.2", `n${i}`), webhook: receiver.url })).job.id);
    for (const id of ids) expect((await getJob(foreman.url, id, 30)).status).toBe("done");
    // the receiver has turned away a delivery of every job (each job's first event; the rest wait behind it)
    await waitFor(() => ids.every((id) => receiver.refused.some((x) => x.json.data.id === id)), { what: "a refused delivery for every job" });
    expect(receiver.received).toHaveLength(0);
    receiver.setDown(false);
    const got = await receiver.until((r) => ids.every((id) => r.some((x) => x.json.data.id === id && x.json.type === "job.done")));
    const order = ["job.queued", "job.loading", "job.working", "job.done"];
    for (const id of ids) {
      const types = got.filter((r) => r.json.data.id === id).map((r) => r.json.type);
      // in state order, each once (loading only when the model had to be loaded)
      expect(types).toEqual(order.filter((t) => types.includes(t)));
      expect(types).toEqual(expect.arrayContaining(["job.queued", "job.working", "job.done"]));
    }
  }, 60_000);

  test("a delivery that keeps failing is given up after the schedule, with every attempt kept", async () => {
    const receiver = receiverFor({ failFirst: 1000 });
    const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { webhooks: { schedule: [10, 10], timeoutMs: 2000 } } });
    const { job } = await postJob(foreman.url, { request: chatRequest(), webhook: { url: receiver.url, events: ["job.queued"] } });
    const given = await waitFor(
      async () => {
        const { deliveries } = (await (await fetch(`${foreman.url}/jobs/${job.id}/deliveries`)).json()) as { deliveries: { status: string; attempts: unknown[] }[] };
        return deliveries[0]?.status === "failed" && deliveries[0];
      },
      { what: "the delivery to be given up" },
    );
    expect(given.attempts).toHaveLength(3);
  });

  test("the outbox survives a SIGKILL between a state change and its delivery", async () => {
    const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0 });
    start.defer(() => sim.stop());
    const receiver = receiverFor();
    receiver.setDown(true);
    const dir = tempDir();
    start.defer(() => dir.remove());
    const db = join(dir.path, "outbox.db");
    let proc = await spawnForeman({ target: sim.url, db, args: ["--webhook-allow", "127.0.0.1"] });
    start.defer(() => proc.kill("SIGKILL"));
    const { job } = await postJob(proc.url, { request: chatRequest(), webhook: receiver.url });
    expect((await getJob(proc.url, job.id, 30)).status).toBe("done");
    await proc.kill("SIGKILL");
    receiver.setDown(false);
    proc = await spawnForeman({ target: sim.url, db, args: ["--webhook-allow", "127.0.0.1"] });
    // the first retry is due seconds after the failed attempt; the restart delivers them then
    const got = await receiver.until((r) => r.some((x) => x.json.type === "job.done"), 60_000);
    expect(got.map((r) => r.json.type).filter((t) => t !== "job.loading")).toEqual(["job.queued", "job.working", "job.done"]);
    await proc.kill("SIGTERM");
  }, 90_000);
});
