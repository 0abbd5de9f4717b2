// SIGKILL foreman (a real child process) in the middle of a run and start it again on the
// same database: every accepted job reaches done exactly once, none is lost.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { startSimulator } from "../../src/sim/index.ts";
import { BUN, listeningUrl, MAIN, tempDir } from "../helpers.ts";

const dir = tempDir();
afterAll(() => dir.remove());

function spawnForeman(target: string, db: string) {
  return Bun.spawn([BUN, MAIN, "serve", "--port", "0", "--host", "127.0.0.1", "--target", target, "--db", db, "--log-level", "info"], { stdout: "ignore", stderr: "pipe" });
}

test("a SIGKILLed foreman restarts on the same database and finishes every accepted job exactly once", async () => {
  const sim = await startSimulator({ tokenDelayMs: 3, loadMs: 10, responseTokens: 5, maxLoaded: 1 });
  const db = join(dir.path, "crash.db");
  try {
    let proc = spawnForeman(sim.url, db);
    let url = await listeningUrl(proc.stderr);
    const ids: string[] = [];
    const models = ["llama3.2", "mistral", "qwen2.5:0.5b"];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${url}/jobs`, { method: "POST", body: JSON.stringify({ request: { model: models[i % 3], messages: [{ role: "user", content: `job ${i}` }] } }) });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    // kill it while work is in flight, twice
    for (let round = 0; round < 2; round++) {
      while (sim.counters.completed < 4 * (round + 1)) await Bun.sleep(5);
      proc.kill("SIGKILL");
      await proc.exited;
      proc = spawnForeman(sim.url, db);
      url = await listeningUrl(proc.stderr);
    }
    for (;;) {
      const jobs = await Promise.all(ids.map(async (id) => ((await (await fetch(`${url}/jobs/${id}`)).json()) as { status: string }).status));
      if (jobs.every((s) => s === "done" || s === "failed" || s === "canceled")) {
        expect(jobs).toEqual(ids.map(() => "done"));
        break;
      }
      await Bun.sleep(50);
    }
    proc.kill("SIGTERM");
    await proc.exited;
    const check = new Database(db, { readonly: true });
    const doneEvents = check.query("SELECT job_id, COUNT(*) AS n FROM job_events WHERE type = 'done' GROUP BY job_id").all() as { job_id: string; n: number }[];
    const recovered = check.query("SELECT COUNT(*) AS n FROM job_events WHERE type = 'queued' AND data LIKE '%restarted%'").get() as { n: number };
    check.close();
    expect(recovered.n).toBeGreaterThanOrEqual(1);
    expect(doneEvents).toHaveLength(ids.length);
    expect(doneEvents.every((e) => e.n === 1)).toBe(true);
    expect(sim.counters.maxConcurrent).toBe(1);
  } finally {
    await sim.stop();
  }
}, 120_000);

test("SIGTERM hands the running job back to the queue, closes the database, and the next start finishes it", async () => {
  const sim = await startSimulator({ tokenDelayMs: 10, loadMs: 10, responseTokens: 100 });
  const db = join(dir.path, "term.db");
  try {
    let proc = spawnForeman(sim.url, db);
    let url = await listeningUrl(proc.stderr);
    const res = await fetch(`${url}/jobs`, { method: "POST", body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "long" }] } }) });
    const { id } = (await res.json()) as { id: string };
    while (((await (await fetch(`${url}/jobs/${id}`)).json()) as { status: string }).status !== "working") await Bun.sleep(10);
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const check = new Database(db, { readonly: true });
    expect(check.query("SELECT status FROM jobs WHERE id = ?").get(id)).toEqual({ status: "queued" });
    check.close();
    proc = spawnForeman(sim.url, db);
    url = await listeningUrl(proc.stderr);
    const done = (await (await fetch(`${url}/jobs/${id}?wait=60`)).json()) as { status: string; attempts: number };
    expect(done.status).toBe("done");
    expect(done.attempts).toBe(2);
    proc.kill("SIGTERM");
    await proc.exited;
  } finally {
    await sim.stop();
  }
}, 120_000);
