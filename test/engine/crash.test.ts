// SIGKILL foreman (a real child process) in the middle of a run and start it again on the
// same database: every accepted job reaches done exactly once, none is lost.
import { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { join } from "node:path";
import { startSimulator } from "../../src/sim/index.ts";
import { perTest, spawnForeman, tempDir, waitFor, type ForemanProcess } from "../harness.ts";

const start = perTest();

/** foreman as a child process on `db`, with the simulator as its target; killed after the test. */
async function spawn(target: string, db: string): Promise<ForemanProcess> {
  const proc = await spawnForeman({ target, db, args: ["--log-level", "info"] });
  start.defer(() => proc.kill("SIGKILL"));
  return proc;
}

async function setUp(options: Parameters<typeof startSimulator>[0]) {
  const sim = await startSimulator(options);
  start.defer(() => sim.stop());
  const dir = tempDir();
  start.defer(() => dir.remove());
  return { sim, db: join(dir.path, "foreman.db") };
}

test("a SIGKILLed foreman restarts on the same database and finishes every accepted job exactly once", async () => {
  const { sim, db } = await setUp({ tokenDelayMs: 3, loadMs: 10, responseTokens: 5, maxLoaded: 1 });
  let proc = await spawn(sim.url, db);
  const ids: string[] = [];
  const models = ["llama3.2", "mistral", "qwen2.5:0.5b"];
  for (let i = 0; i < 30; i++) {
    const res = await fetch(`${proc.url}/jobs`, { method: "POST", body: JSON.stringify({ request: { model: models[i % 3], messages: [{ role: "user", content: `job ${i}` }] } }) });
    expect(res.status).toBe(202);
    ids.push(((await res.json()) as { id: string }).id);
  }
  // kill it while work is in flight, twice: after some replies, hold the target's next reply
  // before its first byte, so a job is surely running (and stays running) when the kill lands
  const chats = () => sim.counters.requests["POST /api/chat"] ?? 0;
  for (let round = 0; round < 2; round++) {
    await waitFor(() => sim.counters.completed >= 4 * (round + 1), { what: `${4 * (round + 1)} replies completed by the target`, intervalMs: 5 });
    await sim.setFaults({ firstByteDelayMs: 600_000 });
    const sent = chats();
    await waitFor(() => chats() > sent, { what: "foreman's next request, held by the target" });
    const running = await Promise.all(["loading", "working"].map(async (status) => ((await (await fetch(`${proc.url}/jobs?status=${status}`)).json()) as { jobs: unknown[] }).jobs.length));
    expect(running.reduce((a, b) => a + b)).toBe(1);
    await proc.kill("SIGKILL");
    await sim.setFaults({ firstByteDelayMs: 0 });
    proc = await spawn(sim.url, db);
  }
  const statuses = await waitFor(
    async () => {
      const jobs = await Promise.all(ids.map(async (id) => ((await (await fetch(`${proc.url}/jobs/${id}`)).json()) as { status: string }).status));
      return jobs.every((s) => s === "done" || s === "failed" || s === "canceled") && jobs;
    },
    { what: "every job to finish after the restarts", timeoutMs: 60_000, intervalMs: 50 },
  );
  expect(statuses).toEqual(ids.map(() => "done"));
  await proc.kill("SIGTERM");
  const check = new Database(db, { readonly: true });
  const doneEvents = check.query("SELECT job_id, COUNT(*) AS n FROM job_events WHERE type = 'done' GROUP BY job_id").all() as { job_id: string; n: number }[];
  const recovered = check.query("SELECT COUNT(*) AS n FROM job_events WHERE type = 'queued' AND data LIKE '%restarted%'").get() as { n: number };
  check.close();
  // each kill stranded the one running job, which the next start handed back to the queue
  expect(recovered.n).toBe(2);
  // one done event for each accepted job, and for nothing else
  expect(Object.fromEntries(doneEvents.map((e) => [e.job_id, e.n]))).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
  expect(sim.counters.maxConcurrent).toBe(1);
}, 120_000);

test("SIGTERM hands the running job back to the queue, closes the database, and the next start finishes it", async () => {
  const { sim, db } = await setUp({ tokenDelayMs: 10, loadMs: 10, responseTokens: 100 });
  let proc = await spawn(sim.url, db);
  const res = await fetch(`${proc.url}/jobs`, { method: "POST", body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "long" }] } }) });
  const { id } = (await res.json()) as { id: string };
  await waitFor(async () => ((await (await fetch(`${proc.url}/jobs/${id}`)).json()) as { status: string }).status === "working", { what: "the job to be working" });
  expect(await proc.kill("SIGTERM")).toBe(0);
  const check = new Database(db, { readonly: true });
  expect(check.query("SELECT status FROM jobs WHERE id = ?").get(id)).toEqual({ status: "queued" });
  check.close();
  proc = await spawn(sim.url, db);
  const done = (await (await fetch(`${proc.url}/jobs/${id}?wait=60`)).json()) as { status: string; attempts: number };
  expect(done.status).toBe("done");
  expect(done.attempts).toBe(2);
  await proc.kill("SIGTERM");
}, 120_000);
