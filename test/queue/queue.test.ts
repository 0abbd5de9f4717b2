import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { ID_PATTERN } from "../../src/store/ids.ts";
import { IllegalTransition, JOB_STATES, TRANSITIONS } from "../../src/contract/states.ts";
import { ASYNC, INTERACTIVE, Queue } from "../../src/queue/queue.ts";
import { openStore, type Store } from "../../src/store/open.ts";
import { Deliveries } from "../../src/webhooks/deliveries.ts";
import { seededRandom, tempDir } from "../harness.ts";

let store: Store;
let queue: Queue;
let dir: { path: string; remove(): void };
let now = 1_000;
beforeEach(() => {
  dir = tempDir();
  store = openStore(`${dir.path}/q.db`);
  queue = new Queue(store.db, () => now);
});
afterEach(() => {
  store.close();
  dir.remove();
});

const add = (model: string, priority = 0, lane = ASYNC) => queue.enqueue({ lane, endpoint: "/api/chat", model, priority, request: JSON.stringify({ model }) });

describe("queue", () => {
  test("enqueue commits the job and its queued event; ids are time-sortable", () => {
    const a = add("llama3.2");
    now++;
    const b = add("llama3.2");
    expect(a.id).toMatch(ID_PATTERN);
    expect([b.id, a.id].sort()).toEqual([a.id, b.id]);
    expect(a.status).toBe("queued");
    expect(a.modelKey).toBe("llama3.2:latest");
    expect(queue.events(a.id).map((e) => e.type)).toEqual(["queued"]);
    // durable: visible through a second connection
    const reader = new (require("bun:sqlite").Database)(`${dir.path}/q.db`, { readonly: true });
    expect(reader.query("SELECT COUNT(*) AS n FROM jobs").get()).toEqual({ n: 2 });
    reader.close();
  });

  test("every legal transition is accepted and every illegal one throws, leaving the job untouched", () => {
    for (const from of JOB_STATES) {
      for (const to of JOB_STATES) {
        const job = add("m");
        // walk the job to `from` along legal edges
        const path: Record<string, string[]> = { queued: [], loading: ["loading"], working: ["working"], done: ["working", "done"], failed: ["failed"], canceled: ["canceled"] };
        for (const step of path[from]!) queue.transition(job.id, step as never);
        const legal = TRANSITIONS[from].includes(to);
        if (legal) expect(queue.transition(job.id, to).status).toBe(to);
        else {
          const before = queue.get(job.id)!;
          expect(() => queue.transition(job.id, to)).toThrow(IllegalTransition);
          expect(queue.get(job.id)).toEqual(before);
          expect(queue.events(job.id).length).toBe(1 + path[from]!.length);
        }
      }
    }
  });

  test("a transition writes the event and runs the outbox hooks in the same transaction", () => {
    const seen: string[] = [];
    queue.onEvent((job, event) => seen.push(`${job.id}:${event.type}`));
    const job = add("m");
    queue.transition(job.id, "working", { attempt: true });
    queue.transition(job.id, "done", { artifact: { contentType: "application/json", body: '{"ok":true}' }, timings: { totalMs: 5 } });
    expect(seen).toEqual([`${job.id}:queued`, `${job.id}:working`, `${job.id}:done`]);
    const done = queue.get(job.id)!;
    expect(done.attempts).toBe(1);
    expect(done.startedAt).toBe(now);
    expect(done.finishedAt).toBe(now);
    expect(done.timings).toEqual({ totalMs: 5 });
    expect(new TextDecoder().decode(queue.artifact(job.id)!.body)).toBe('{"ok":true}');
  });

  test("history: each stored event with the job as it was right after it; events stored without a snapshot get the job as it is", () => {
    const job = add("m");
    const t0 = now;
    now += 10;
    queue.transition(job.id, "working", { attempt: true, timings: { queueMs: 10 } });
    now += 5;
    queue.transition(job.id, "done", { timings: { totalMs: 5 }, progress: { chunks: 3, tokens: 2 } });
    const history = queue.history(job.id);
    expect(history.map(({ event, job: then }) => [event.type, then.status, then.attempts, then.startedAt, then.finishedAt, then.progressTokens, then.timings])).toEqual([
      ["queued", "queued", 0, null, null, 0, null],
      ["working", "working", 1, t0 + 10, null, 0, { queueMs: 10 }],
      ["done", "done", 1, t0 + 10, t0 + 15, 2, { queueMs: 10, totalMs: 5 }],
    ]);
    expect(queue.history(job.id, history[0]!.event.id).map((h) => h.event.type)).toEqual(["working", "done"]);
    // an event from before snapshots were kept (migration 3)
    store.db.run("UPDATE job_events SET snapshot = NULL WHERE job_id = ? AND type = 'queued'", [job.id]);
    const [old] = queue.history(job.id);
    expect([old!.job.status, old!.job.attempts, old!.job.finishedAt]).toEqual(["queued", 1, t0 + 15]);
  });

  test("a hook that throws rolls the whole transition back", () => {
    const job = add("m");
    queue.onEvent(() => {
      throw new Error("outbox down");
    });
    expect(() => queue.transition(job.id, "working")).toThrow("outbox down");
    expect(queue.get(job.id)!.status).toBe("queued");
    expect(queue.events(job.id).length).toBe(1);
  });

  test("listeners hear of an event only after the outermost commit, and never of a rolled-back one", () => {
    const heard: string[] = [];
    queue.onCommitted((job, event) => heard.push(`${job.model}:${event.type}`));
    const before = queue.queuedCount;
    expect(() =>
      queue.atomically(() => {
        add("rolled-back");
        expect(heard).toEqual([]); // not yet: the transaction is still open
        throw new Error("abort the submission batch");
      }),
    ).toThrow("abort the submission batch");
    expect(heard).toEqual([]);
    expect(queue.queuedCount).toBe(before);
    expect(store.db.query("SELECT COUNT(*) AS n FROM jobs WHERE model = 'rolled-back'").get()).toEqual({ n: 0 });
    // a savepoint that rolls back inside a transaction that commits: only the committed part is heard
    queue.atomically(() => {
      add("kept");
      try {
        queue.atomically(() => {
          add("inner");
          throw new Error("inner fails");
        });
      } catch {
        // the outer transaction goes on
      }
      expect(heard).toEqual([]);
    });
    expect(heard).toEqual(["kept:queued"]);
    expect(queue.queuedCount).toBe(before + 1);
  });

  test("heads: oldest interactive request, and per model the best job and the oldest wait", () => {
    now = 10;
    const a1 = add("a");
    now = 20;
    add("b");
    now = 30;
    const a2 = add("a", 5);
    expect(queue.heads().interactive).toBeNull();
    now = 40;
    const i = add("b", 0, INTERACTIVE);
    const heads = queue.heads();
    expect(heads.interactive?.id).toBe(i.id);
    const a = heads.models.find((m) => m.drainKey === "a:latest")!;
    expect(a.best.id).toBe(a2.id);
    expect(a.oldestQueuedAt).toBe(10);
    expect(heads.models.map((m) => m.drainKey)).toEqual(["a:latest", "b:latest"]);
    queue.transition(a2.id, "working");
    expect(queue.heads().models.find((m) => m.drainKey === "a:latest")!.best.id).toBe(a1.id);
  });

  test("heads group jobs by drain key: one model with two num_ctx values is two groups", () => {
    const plain = add("a");
    const big = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "A:latest", request: "{}", load: { num_ctx: 8192 } });
    expect(big.drainKey).toBe("a:latest num_ctx=8192");
    expect(big.modelKey).toBe("a:latest");
    expect(queue.heads().models.map((m) => [m.drainKey, m.best.id])).toEqual([
      ["a:latest", plain.id],
      ["a:latest num_ctx=8192", big.id],
    ]);
  });

  test("a preempted job goes back to the queue counted apart from failures, its progress discarded, and keeps its place", () => {
    const first = add("a");
    const second = add("a");
    queue.transition(first.id, "working", { attempt: true });
    queue.progress(first.id, 5, 40);
    const back = queue.transition(first.id, "queued", { preempted: true, progress: { chunks: 0, tokens: 0 }, data: { reason: "preempted" } });
    expect([back.status, back.preemptions, back.failures, back.attempts, back.progressTokens]).toEqual(["queued", 1, 0, 1, 0]);
    expect(queue.heads().models[0]!.best.id).toBe(first.id);
    expect(second.preemptible).toBe(true);
    expect(queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "a", request: "{}", preemptible: false }).preemptible).toBe(false);
    expect(queue.history(first.id).at(-1)!.job.preemptions).toBe(1);
  });

  test("queue position counts interactive work and older jobs ahead", () => {
    const a = add("a");
    const b = add("b");
    add("c", 0, INTERACTIVE);
    expect(queue.position(a)).toBe(1);
    expect(queue.position(b)).toBe(2);
    queue.transition(a.id, "working");
    expect(queue.position(queue.get(a.id)!)).toBeNull();
  });

  test("recover: running async jobs go back to the queue, repeat offenders fail, passthrough is canceled", () => {
    const running = add("a");
    queue.transition(running.id, "working", { attempt: true });
    const loading = add("a");
    queue.transition(loading.id, "loading", { attempt: true });
    const offender = add("a");
    queue.transition(offender.id, "working");
    queue.transition(offender.id, "queued", { failure: true });
    queue.transition(offender.id, "working");
    const waiting = add("a");
    const passthrough = add("a", 0, INTERACTIVE);
    expect(queue.recover((failures) => failures >= 2)).toEqual({ requeued: 2, failed: 1, canceled: 1 });
    expect(queue.get(running.id)!.status).toBe("queued");
    expect(queue.get(running.id)!.failures).toBe(1);
    expect(queue.get(offender.id)!.status).toBe("failed");
    expect(queue.get(offender.id)!.error?.message).toContain("interrupted by a foreman restart");
    expect(queue.get(waiting.id)!.status).toBe("queued");
    expect(queue.get(passthrough.id)!.status).toBe("canceled");
  });

  test("heads: each model's best and oldest job equal a sort of its queued jobs, through random priorities, starts and requeues", () => {
    const random = seededRandom("queue heads");
    const models = ["a", "b", "c"];
    const live: string[] = [];
    for (let step = 0; step < 600; step++) {
      now += 1 + Math.floor(random() * 3);
      const roll = random();
      if (roll < 0.55 || live.length === 0) live.push(add(models[Math.floor(random() * 3)]!, Math.floor(random() * 5) - 2).id);
      else {
        const id = live[Math.floor(random() * live.length)]!;
        const job = queue.get(id)!;
        // leave the queue, come back to it (a requeue keeps the job's seq and age), or end
        if (job.status === "queued") queue.transition(id, random() < 0.5 ? "working" : "canceled");
        else if (job.status === "working") queue.transition(id, random() < 0.5 ? "queued" : "done");
      }
      const queued = store.db.query("SELECT id, seq, drain_key, priority, created_at FROM jobs WHERE status = 'queued' AND lane = 1").all() as { id: string; seq: number; drain_key: string; priority: number; created_at: number }[];
      const expected = [...new Set(queued.map((j) => j.drain_key))].sort().map((drainKey) => {
        const mine = queued.filter((j) => j.drain_key === drainKey);
        const best = [...mine].sort((x, y) => y.priority - x.priority || x.seq - y.seq)[0]!;
        return { drainKey, best: best.id, oldestQueuedAt: Math.min(...mine.map((j) => j.created_at)) };
      });
      expect(queue.heads().models.map((h) => ({ drainKey: h.drainKey, best: h.best.id, oldestQueuedAt: h.oldestQueuedAt }))).toEqual(expected);
    }
  });

  test("choosing the next job stays a few index seeks with many queued jobs", () => {
    const insert = store.db.query(`INSERT INTO jobs (id, lane, endpoint, model, model_key, drain_key, priority, status, created_at, queued_at, updated_at) VALUES (?1, 1, '/api/chat', ?2, ?3, ?3, 0, 'queued', ?4, ?5, ?6)`);
    store.db.transaction(() => {
      for (let n = 0; n < 50_000; n++) insert.run(`x${n}`, `m${n % 5}`, `m${n % 5}:latest`, n, n, n);
    })();
    const plan = store.db.query(`EXPLAIN QUERY PLAN SELECT id, seq, drain_key, priority, created_at FROM jobs INDEXED BY jobs_queued_best WHERE status = 'queued' AND not_before IS NULL AND lane = 1 AND drain_key = ? LIMIT 1`).all("m1:latest") as { detail: string }[];
    expect(plan.map((p) => p.detail).join(" ")).not.toContain("SCAN");
    const heads = queue.heads();
    expect(heads.models).toHaveLength(5);
    expect(heads.models[0]!.best.id).toBe("x0");
  });
});

describe("retention", () => {
  test("prune removes finished jobs older than the cutoff with everything they own, keeping live ones and pending webhooks", () => {
    now = 1000;
    const old = add("a");
    queue.transition(old.id, "working");
    queue.transition(old.id, "done", { artifact: { contentType: "application/json", body: "{}" } });
    const pendingHook = add("a");
    queue.transition(pendingHook.id, "failed", { error: { status: 400, message: "x" } });
    store.db.query("INSERT INTO webhook_deliveries (event_id, job_id, event_type, url, payload, status, next_attempt_at, created_at) VALUES (1, ?, 'job.failed', 'http://h', '{}', 'pending', 0, 0)").run(pendingHook.id);
    const waiting = add("a");
    now = 5000;
    const recent = add("a");
    queue.transition(recent.id, "canceled");
    queue.addDependents(new Deliveries(store.db));
    expect(queue.prune(2000)).toEqual({ removed: 1, next: null });
    expect(queue.get(old.id)).toBeNull();
    expect(queue.artifact(old.id)).toBeNull();
    expect(queue.events(old.id)).toEqual([]);
    expect(queue.get(pendingHook.id)).not.toBeNull();
    expect(queue.get(waiting.id)!.status).toBe("queued");
    expect(queue.get(recent.id)).not.toBeNull();
    expect(queue.prune(2000)).toEqual({ removed: 0, next: null });
  });
});
