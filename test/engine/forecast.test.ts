import { afterEach, describe, expect, test } from "bun:test";
import { forecast, type BacklogJob, type BacklogReader, type DurationOf, type ForecastState } from "../../src/engine/forecast.ts";
import { chooseNext } from "../../src/engine/scheduler.ts";
import { ASYNC, INTERACTIVE, type Lane } from "../../src/queue/queue.ts";
import { seededRandom, testQueue, type TestQueue } from "../harness.ts";

const MODELS = ["a:latest", "b:latest", "c:latest"];
/** Durations that depend on the model and on a load, as the learnt rates do. */
const duration: DurationOf = (job, load) => (load ? 700 : 0) + 100 * (1 + MODELS.indexOf(job.modelKey));

let open: TestQueue | undefined;
afterEach(() => open?.remove());

/**
 * Runs the queue for real, one choice at a time: the queue's own heads and back-off releases,
 * `chooseNext`, each job taking `duration` on a clock, the scheduling state moved on as the
 * worker moves it when it sends a job. Returns the ids in the order they ran, with their starts and ends.
 */
function runQueue(t: TestQueue, clock: { now: number }, initial: ForecastState): { id: string; startAt: number; finishAt: number }[] {
  const ran: { id: string; startAt: number; finishAt: number }[] = [];
  const leftAt: Record<string, number> = { ...initial.leftAt };
  let resident = [...initial.resident];
  let lastKey = initial.lastKey;
  let resume = initial.resume;
  for (;;) {
    t.queue.releaseDue(clock.now);
    const choice = chooseNext(t.queue.heads(), { resident, now: clock.now, agingCapMs: initial.agingCapMs, leftAt, resume });
    if (!choice) {
      const next = t.queue.nextRelease();
      if (next === null) return ran;
      clock.now = next;
      continue;
    }
    const job = t.queue.get(choice.id)!;
    const load = !resident.includes(job.drainKey);
    if (lastKey !== undefined && lastKey !== job.drainKey) leftAt[lastKey] = clock.now;
    if (job.lane !== INTERACTIVE) resume = undefined;
    lastKey = job.drainKey;
    // the target keeps `capacity` runners, the most recent (what the poller's list says after a poll)
    resident = [job.drainKey, ...resident.filter((k) => k !== job.drainKey)].slice(0, initial.capacity);
    const startAt = clock.now;
    t.queue.transition(job.id, "working", { attempt: true });
    clock.now += duration({ ...choice, lane: job.lane, endpoint: job.endpoint, modelKey: job.modelKey }, load)!;
    ran.push({ id: job.id, startAt, finishAt: clock.now });
    t.queue.transition(job.id, "done");
  }
}

/** A random backlog: both lanes, three models, priorities, some jobs backing off until a later time. */
function randomQueue(random: () => number, clock: { now: number }, jobs: number): TestQueue {
  const t = (open = testQueue(() => clock.now));
  for (let i = 0; i < jobs; i++) {
    clock.now += Math.floor(random() * 50);
    const lane: Lane = random() < 0.1 ? INTERACTIVE : ASYNC;
    const model = MODELS[Math.floor(random() * MODELS.length)]!;
    const job = t.queue.enqueue({ lane, endpoint: "/api/chat", model, priority: random() < 0.2 ? Math.floor(random() * 3) : 0, request: "{}" });
    if (lane === ASYNC && random() < 0.15) {
      t.queue.transition(job.id, "working", { attempt: true });
      t.queue.transition(job.id, "queued", { notBefore: clock.now + Math.floor(random() * 20_000) });
    }
  }
  return t;
}

describe("forecast: the scheduler run forward", () => {
  test("orders and times the backlog exactly as the queue runs it, through lanes, drain keys, priorities, the aging cap and back-off", () => {
    const random = seededRandom("forecast order");
    for (let round = 0; round < 20; round++) {
      open?.remove();
      const clock = { now: 1_000_000 };
      const t = randomQueue(random, clock, 30 + Math.floor(random() * 60));
      // one to three runners resident, as many as the target keeps
      const capacity = 1 + (round % 3);
      const resident = [...MODELS.slice(round % 3), ...MODELS.slice(0, round % 3)].slice(0, capacity);
      const state: ForecastState = { resident, agingCapMs: 1500, leftAt: {}, now: clock.now, freeAt: clock.now, capacity };
      const predicted = forecast(t.queue.backlog(), state, duration, 1000);
      const ran = runQueue(t, clock, state);
      expect(ran.length).toBeGreaterThan(0);
      expect([...predicted.keys()]).toEqual(ran.map((r) => r.id));
      expect([...predicted.values()]).toEqual(ran.map((r, position) => ({ position, startAt: r.startAt, finishAt: r.finishAt, reason: null })));
    }
  }, 30_000);

  test("stops at the horizon, reading a few pages whatever the queue holds; the order so far is the same", () => {
    const random = seededRandom("forecast horizon");
    const clock = { now: 1_000_000 };
    const t = randomQueue(random, clock, 2000);
    // what is due now is released, as the worker does before it chooses: the rest falls due later
    t.queue.releaseDue(clock.now);
    const state: ForecastState = { resident: [], agingCapMs: 1500, now: clock.now, freeAt: clock.now, capacity: 1 };
    const whole = [...forecast(t.queue.backlog(), state, duration, 5000).keys()];
    expect(whole.length).toBe(2000);
    let rows = 0;
    const counted = Object.fromEntries(Object.entries(t.queue.backlog()).map(([name, read]) => [name, (...args: never[]) => {
      const result = (read as (...a: never[]) => unknown[])(...args);
      rows += result.length;
      return result;
    }])) as unknown as BacklogReader;
    const first = [...forecast(counted, state, duration, 10).keys()];
    expect(first).toEqual(whole.slice(0, 10));
    // the jobs backing off are read up to the horizon; of each group's two orders, a page or two
    expect(rows).toBeLessThan(500);
  }, 30_000);

  test("a model without history has no times, and neither has anything behind it; positions stay", () => {
    const job = (id: string, modelKey: string, seq: number): BacklogJob => ({ id, seq, drainKey: modelKey, modelKey, priority: 0, queuedAt: seq, lane: ASYNC, endpoint: "/api/chat" });
    const groups: Record<string, BacklogJob[]> = { "a:latest": [job("a1", "a:latest", 1), job("a2", "a:latest", 2)], "new:latest": [job("n1", "new:latest", 3)] };
    const backlog: BacklogReader = {
      drainKeys: () => Object.keys(groups),
      best: (k, offset, limit) => groups[k]!.slice(offset, offset + limit),
      byAge: (k, offset, limit) => groups[k]!.slice(offset, offset + limit),
      interactive: () => [],
      later: () => [],
    };
    const known: DurationOf = (j) => (j.modelKey === "a:latest" ? 100 : null);
    const f = forecast(backlog, { resident: ["a:latest"], agingCapMs: 1e9, now: 0, freeAt: 50, capacity: 1 }, known, 10);
    expect(Object.fromEntries(f)).toEqual({
      a1: { position: 0, startAt: 50, finishAt: 150, reason: null },
      a2: { position: 1, startAt: 150, finishAt: 250, reason: null },
      n1: { position: 2, startAt: null, finishAt: null, reason: "no_history" },
    });
    // the running job's end unknown: nothing is timed; a job without history still says so
    const blind = forecast(backlog, { resident: ["a:latest"], agingCapMs: 1e9, now: 0, freeAt: null, capacity: 1 }, known, 10);
    expect([...blind.values()].map((x) => [x.position, x.startAt, x.reason])).toEqual([
      [0, null, "behind_unknown"],
      [1, null, "behind_unknown"],
      [2, null, "no_history"],
    ]);
  });
});
