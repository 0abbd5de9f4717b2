// SIGKILL foreman at random moments across many jobs with webhooks, restart it each time:
// every accepted job ends exactly once, none is lost, and every state change of every job
// reaches the webhook receiver (at least once, deduplicated by webhook-id, in order).
// The moments are seeded: the seed is printed, FOREMAN_TEST_SEED replays the same pauses.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { startSimulator } from "../../src/sim/index.ts";
import { perTest, seededRandom, waitFor } from "../harness.ts";

const start = perTest();

test("random SIGKILLs lose no job and no webhook event", async () => {
  const random = seededRandom("chaos");
  const sim = await startSimulator({ tokenDelayMs: 2, loadMs: 10, responseTokens: 6, maxLoaded: 1 });
  start.defer(() => sim.stop());
  const byId = new Map<string, { type: string; job: string }>();
  const receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { type: string; data: { id: string } };
      byId.set(req.headers.get("webhook-id")!, { type: body.type, job: body.data.id });
      return new Response("ok");
    },
  });
  start.defer(() => receiver.stop(true));
  const { db, spawn } = start.restartable(sim.url, ["--webhook-allow", "127.0.0.1"]);
  let proc = await spawn();
  const ids: string[] = [];
  const models = ["llama3.2", "mistral", "qwen2.5:0.5b"];
  const submit = async (i: number) => {
    const res = await fetch(`${proc.url}/jobs`, { method: "POST", headers: { "idempotency-key": `chaos-${i}` }, body: JSON.stringify({ request: { model: models[i % 3], messages: [{ role: "user", content: `n${i}` }] }, webhook: `http://127.0.0.1:${receiver.port}/` }) });
    if (res.status === 202 || res.status === 200) ids.push(((await res.json()) as { id: string }).id);
  };
  for (let i = 0; i < 20; i++) await submit(i);
  for (let round = 0; round < 4; round++) {
    await Bun.sleep(20 + Math.floor(random() * 150));
    await proc.kill("SIGKILL");
    proc = await spawn();
    for (let i = 20 + round * 5; i < 25 + round * 5; i++) await submit(i);
  }
  const unique = [...new Set(ids)];
  expect(unique).toHaveLength(40);
  for (const id of unique) expect(((await (await fetch(`${proc.url}/jobs/${id}?wait=60`)).json()) as { status: string }).status).toBe("done");
  // every stored state change has been delivered (retries of killed deliveries come within seconds)
  const check = new Database(db, { readonly: true });
  const stored = () => check.query("SELECT job_id, type FROM job_events ORDER BY id").all() as { job_id: string; type: string }[];
  const delivered = () => check.query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status != 'delivered'").get() as { n: number };
  await waitFor(() => delivered().n === 0, { what: () => `every webhook delivered (${delivered().n} not yet)`, timeoutMs: 30_000, intervalMs: 100 });
  const events = stored();
  const doneCount = new Map<string, number>();
  for (const e of events) if (e.type === "done") doneCount.set(e.job_id, (doneCount.get(e.job_id) ?? 0) + 1);
  for (const id of unique) expect(doneCount.get(id)).toBe(1);
  for (const id of unique) {
    const want = events.filter((e) => e.job_id === id).map((e) => `job.${e.type}`);
    const got = check.query("SELECT d.webhook_id, d.event_type FROM webhook_deliveries d WHERE d.job_id = ? ORDER BY d.id").all(id) as { webhook_id: string; event_type: string }[];
    expect(got.map((g) => g.event_type)).toEqual(want);
    for (const g of got) expect(byId.get(g.webhook_id)).toEqual({ type: g.event_type, job: id });
  }
  check.close();
  await proc.kill("SIGTERM");
}, 120_000);
