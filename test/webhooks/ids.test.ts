// webhook-id is unique for all time and the same on every attempt of one delivery: receivers
// that deduplicate on it (as Standard Webhooks tells them to) never drop a real event because
// another database — a restored backup, a fresh install — handed out the same id.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startForeman } from "../../src/server.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { ID_PATTERN } from "../../src/store/ids.ts";
import { migrations } from "../../src/store/migrations.ts";
import { openStore } from "../../src/store/open.ts";
import { startStack, tempDir, testConfig, waitFor, type Stack } from "../harness.ts";
import { chatRequest, postJob } from "../harness.ts";
import { deliveriesOf, startReceiver, type Receiver } from "./receivers.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

async function stack(): Promise<Stack> {
  const s = await startStack({ start: { webhooks: { schedule: [20, 20, 20], timeoutMs: 5000 } } });
  cleanup.push(() => s.stop());
  return s;
}

function receiver(answer?: Parameters<typeof startReceiver>[0]): Receiver {
  const r = startReceiver(answer);
  cleanup.push(() => r.stop());
  return r;
}

const idOf = (id: string) => id.slice("msg_".length);

describe("webhook-id", () => {
  test("two fresh databases never hand out the same webhook-id for their first events", async () => {
    const hook = receiver();
    const [a, b] = [await stack(), await stack()];
    for (const s of [a, b]) expect((await postJob(s.url, { request: chatRequest(), webhook: { url: hook.url, events: ["job.queued"] } })).status).toBe(202);
    await waitFor(() => hook.hits.length === 2, { what: "the first event of each foreman" });
    const ids = hook.hits.map((h) => h.headers.get("webhook-id")!);
    expect(ids[0]).not.toBe(ids[1]);
    for (const id of ids) {
      expect(id).toStartWith("msg_");
      expect(idOf(id)).toMatch(ID_PATTERN);
    }
  });

  test("every attempt of one delivery carries the same webhook-id, and the listing shows it", async () => {
    const hook = receiver((_hit, i) => (i < 2 ? 500 : 200));
    const s = await stack();
    const { job } = await postJob(s.url, { request: chatRequest(), webhook: { url: hook.url, events: ["job.done"] } });
    await waitFor(() => hook.hits.length === 3, { what: "two failed attempts and a successful one" });
    const ids = new Set(hook.hits.map((h) => h.headers.get("webhook-id")));
    expect(ids.size).toBe(1);
    // the receiver answers before foreman records the attempt
    const deliveries = await waitFor(async () => {
      const d = await deliveriesOf(s.url, job.id);
      return d[0]?.status === "delivered" ? d : null;
    }, { what: "the delivery recorded as delivered" });
    expect(deliveries.map((d) => [d.webhook_id, d.status, d.attempts.map((a) => a.status)])).toEqual([[[...ids][0]!, "delivered", [500, 500, 200]]]);
  });

  test("a retry after a restart carries the id of the attempt before it", async () => {
    const hook = receiver((_hit, i) => (i === 0 ? 500 : 200));
    const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0 });
    cleanup.push(() => sim.stop());
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const config = testConfig({ target: sim.url }, dir.path);
    const first = await startForeman(config, { webhooks: { schedule: [200], timeoutMs: 5000 } });
    await postJob(first.url, { request: chatRequest(), webhook: { url: hook.url, events: ["job.queued"] } });
    await waitFor(() => hook.hits.length === 1, { what: "the first, failed attempt" });
    await first.stop();
    const second = await startForeman(config, { webhooks: { schedule: [200], timeoutMs: 5000 } });
    cleanup.push(() => second.stop());
    await waitFor(() => hook.hits.length >= 2, { what: "the retry after the restart" });
    expect(hook.hits[1]!.headers.get("webhook-id")).toBe(hook.hits[0]!.headers.get("webhook-id")!);
  });

  test("the migration gives existing deliveries ids: attempted ones keep the id their receiver saw", () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const path = join(dir.path, "old.db");
    const old = new Database(path, { create: true, strict: true });
    old.exec(migrations[0]!);
    old.exec("PRAGMA user_version = 1");
    const insert = old.query("INSERT INTO webhook_deliveries (event_id, job_id, event_type, url, payload, status, attempts, next_attempt_at, created_at) VALUES (1, 'j', 'job.queued', ?, '{}', ?, ?, 0, 0)");
    insert.run("HTTP://Hooks.LAN:8080/hook?x=1", "pending", 2);
    insert.run("https://n8n.lan/webhook/llm", "pending", 0);
    insert.run("http://[fd00::5]#frag", "delivered", 1);
    insert.run("http://192.168.1.5", "pending", 0);
    old.close();
    const store = openStore(path);
    const rows = store.db.query("SELECT id, webhook_id, destination FROM webhook_deliveries ORDER BY id").all() as { id: number; webhook_id: string; destination: string }[];
    store.close();
    expect(rows.map((r) => r.destination)).toEqual(["http://hooks.lan:8080", "https://n8n.lan", "http://[fd00::5]", "http://192.168.1.5"]);
    expect(rows[0]!.webhook_id).toBe("msg_1");
    expect(rows[2]!.webhook_id).toBe("msg_3");
    for (const r of [rows[1]!, rows[3]!]) expect(r.webhook_id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(rows[1]!.webhook_id).not.toBe(rows[3]!.webhook_id);
  });
});
