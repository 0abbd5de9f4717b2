import { describe, expect, test } from "bun:test";
import { BATCH_PRIORITY } from "../../src/queue/batches.ts";
import { chooseNext, type SchedulingState } from "../../src/engine/scheduler.ts";
import type { Candidate, ModelHead, QueueHeads } from "../../src/queue/heads.ts";

let seq = 0;
const job = (drainKey: string, queuedAt: number, priority = 0): Candidate => ({ id: `j${++seq}`, seq, drainKey, priority, queuedAt });
const head = (best: Candidate, oldestQueuedAt = best.queuedAt): ModelHead => ({ drainKey: best.drainKey, best, oldestQueuedAt });
const state = (over: Partial<SchedulingState> = {}): SchedulingState => ({ resident: [], now: 1000, agingCapMs: 500, ...over });
const heads = (models: ModelHead[], interactive: Candidate | null = null): QueueHeads => ({ interactive, models });

describe("chooseNext (drain-by-model)", () => {
  test("an empty queue chooses nothing", () => {
    expect(chooseNext(heads([]), state())).toBeNull();
    expect(chooseNext(heads([]), state({ resident: ["a:latest"] }))).toBeNull();
  });

  test("interactive work goes first, whatever is resident and however long jobs waited", () => {
    const i = job("b:latest", 999);
    const a = job("a:latest", 0);
    expect(chooseNext(heads([head(a)], i), state({ resident: ["a:latest"] }))).toBe(i);
    expect(chooseNext(heads([head(a)], i), state({ now: 1_000_000 }))).toBe(i);
  });

  test("the resident model's best job runs before an older job of another model", () => {
    const a = job("a:latest", 900);
    const b = job("b:latest", 800);
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["a:latest"] }))).toBe(a);
  });

  test("with nothing resident, the model whose oldest job waited longest goes first", () => {
    const a = job("a:latest", 900);
    const b = job("b:latest", 800);
    const c = job("c:latest", 850);
    expect(chooseNext(heads([head(a), head(b), head(c)]), state())).toBe(b);
  });

  test("a resident model without queued work does not hold the worker", () => {
    const b = job("b:latest", 800);
    const c = job("c:latest", 700);
    expect(chooseNext(heads([head(b), head(c)]), state({ resident: ["a:latest"] }))).toBe(c);
  });

  test("the model's chosen job is its best (priority, then age), while the model's age is its oldest job", () => {
    const urgent = job("b:latest", 950, 10);
    const a = job("a:latest", 900);
    // b's oldest job is older than a's even though its best (urgent) job is new
    expect(chooseNext(heads([head(a), head(urgent, 100)]), state())).toBe(urgent);
  });

  test("aging cap: a model waiting at least the cap is served even though the resident model has work", () => {
    const a = job("a:latest", 990);
    const b = job("b:latest", 500); // waited exactly 500 = cap
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["a:latest"] }))).toBe(b);
    const b2 = job("b:latest", 501); // 499 < cap
    expect(chooseNext(heads([head(a), head(b2)]), state({ resident: ["a:latest"] }))).toBe(a);
  });

  test("aging cap: of several starved models the longest-waiting one goes first", () => {
    const a = job("a:latest", 990);
    const b = job("b:latest", 400);
    const c = job("c:latest", 100);
    expect(chooseNext(heads([head(a), head(b), head(c)]), state({ resident: ["a:latest"] }))).toBe(c);
  });

  test("aging counts from when foreman last left a model, so two backlogs alternate in slices", () => {
    const a = job("a:latest", 0);
    const b = job("b:latest", 0);
    // b is resident now; a was left at t=700: a has waited only 300 of its 500 cap
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["b:latest"], leftAt: { "a:latest": 700 } }))).toBe(b);
    // at t=1200 a's slice wait reached the cap
    expect(chooseNext(heads([head(a), head(b)]), state({ now: 1200, resident: ["b:latest"], leftAt: { "a:latest": 700 } }))).toBe(a);
  });

  test("an aging cap of 0 degenerates to oldest-model-first (no draining)", () => {
    const a = job("a:latest", 900);
    const b = job("b:latest", 800);
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["a:latest"], agingCapMs: 0 }))).toBe(b);
  });

  test("of several resident models, the most recently used one with work drains first", () => {
    const a = job("a:latest", 900);
    const b = job("b:latest", 950);
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["b:latest", "a:latest"] }))).toBe(b);
    expect(chooseNext(heads([head(a)]), state({ resident: ["b:latest", "a:latest"] }))).toBe(a);
  });

  test("a model with other load-time options is another group: drained apart, swapped to like another model", () => {
    const small = job("a:latest num_ctx=2048", 980);
    const big = job("a:latest num_ctx=8192", 950);
    const plain = job("a:latest", 900);
    // the resident runner's group drains first, though the others are older
    expect(chooseNext(heads([head(plain), head(big), head(small)]), state({ resident: ["a:latest num_ctx=2048"] }))).toBe(small);
    // with nothing resident, the group that waited longest
    expect(chooseNext(heads([head(big), head(small), head(plain)]), state())).toBe(plain);
    // the aging cap applies between groups of one model as between models
    expect(chooseNext(heads([head(plain), head(small)]), state({ now: 1400, resident: ["a:latest num_ctx=2048"] }))).toBe(plain);
  });

  test("after a preemption the interrupted drain goes on first, as though still resident; the aging cap still holds", () => {
    const a = job("a:latest", 900);
    const b = job("b:latest", 800);
    // the interactive request left b resident; a's drain was interrupted
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["b:latest", "a:latest"], resume: "a:latest" }))).toBe(a);
    // an interactive request still goes first
    const i = job("c:latest", 950);
    expect(chooseNext(heads([head(a), head(b)], i), state({ resident: ["b:latest"], resume: "a:latest" }))).toBe(i);
    // a group past the aging cap is served even so
    const c = job("c:latest", 100);
    expect(chooseNext(heads([head(a), head(b), head(c)]), state({ resident: ["b:latest"], resume: "a:latest" }))).toBe(c);
    // a resumed group with nothing queued holds nothing
    expect(chooseNext(heads([head(b)]), state({ resident: ["b:latest"], resume: "a:latest" }))).toBe(b);
  });

  test("exhaustive: over every small queue the choice obeys the four rules", () => {
    const models = ["a:latest", "b:latest", "c:latest"];
    const times = [0, 400, 600, 999];
    let checked = 0;
    for (const residentIdx of [-1, 0, 1, 2]) {
      for (const ta of [undefined, ...times]) for (const tb of [undefined, ...times]) for (const tc of [undefined, ...times]) {
        const ts = [ta, tb, tc];
        const hs = models.flatMap((m, i) => (ts[i] === undefined ? [] : [head(job(m, ts[i]!))]));
        const st = state({ resident: residentIdx >= 0 ? [models[residentIdx]!] : [] });
        const chosen = chooseNext(heads(hs), st);
        checked++;
        if (hs.length === 0) {
          expect(chosen).toBeNull();
          continue;
        }
        const res = hs.find((h) => h.drainKey === st.resident[0]);
        const starved = hs.filter((h) => h !== res && st.now - h.oldestQueuedAt >= st.agingCapMs);
        const oldest = (list: ModelHead[]) => Math.min(...list.map((h) => h.oldestQueuedAt));
        const chosenHead = hs.find((h) => h.best === chosen)!;
        if (res && starved.length === 0) expect(chosenHead).toBe(res);
        else if (res) expect(chosenHead.oldestQueuedAt).toBe(oldest(starved));
        else expect(chosenHead.oldestQueuedAt).toBe(oldest(hs));
      }
    }
    expect(checked).toBe(4 * 125);
  });
});

describe("chooseNext: batch lines are background across groups (ADR 0040)", () => {
  const line = (drainKey: string, queuedAt: number) => job(drainKey, queuedAt, BATCH_PRIORITY);

  test("a resident group draining only batch lines yields to another group's plain job, however new", () => {
    const a = line("a:latest", 0);
    const b = job("b:latest", 999);
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["a:latest"] }))).toBe(b);
    // the same job one priority step above the batch's is plain work
    const b2 = job("b:latest", 999, BATCH_PRIORITY + 1);
    expect(chooseNext(heads([head(a), head(b2)]), state({ resident: ["a:latest"] }))).toBe(b2);
    // of several plain groups, the one whose oldest job waited longest
    const c = job("c:latest", 900);
    expect(chooseNext(heads([head(a), head(b), head(c)]), state({ resident: ["a:latest"] }))).toBe(c);
  });

  test("it does not yield to another group's batch lines, nor does a group whose best job is plain", () => {
    const a = line("a:latest", 900);
    const other = line("b:latest", 800);
    expect(chooseNext(heads([head(a), head(other)]), state({ resident: ["a:latest"] }))).toBe(a);
    // a's best is plain (its batch lines wait behind it inside the group): a drains as before
    const plainA = job("a:latest", 950);
    const b = job("b:latest", 900);
    expect(chooseNext(heads([head(plainA, 0), head(b)]), state({ resident: ["a:latest"] }))).toBe(plainA);
  });

  test("a job POST /jobs queues at the batch priority is background work too", () => {
    const a = job("a:latest", 0, BATCH_PRIORITY);
    const b = job("b:latest", 999, -999);
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["a:latest"] }))).toBe(b);
  });

  test("the aging cap still holds: a batch group that waited the cap is served before plain work", () => {
    const a = line("a:latest", 0);
    const b = job("b:latest", 990);
    // b resident and draining; a was left at 400: waited 600 >= 500
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["b:latest"], leftAt: { "a:latest": 400 } }))).toBe(a);
    // left at 600: waited 400 < 500, b goes on
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["b:latest"], leftAt: { "a:latest": 600 } }))).toBe(b);
    // a starved group comes before the plain one a batch drain would yield to
    const c = line("c:latest", 100);
    expect(chooseNext(heads([head(a), head(b), head(c)]), state({ resident: ["a:latest"] }))).toBe(c);
  });

  test("with nothing resident, groups with plain work go before older batch-only groups, unless those waited the cap", () => {
    const a = line("a:latest", 600);
    const b = job("b:latest", 900);
    expect(chooseNext(heads([head(a), head(b)]), state())).toBe(b);
    const old = line("a:latest", 400); // waited 600 >= 500
    expect(chooseNext(heads([head(old), head(b)]), state())).toBe(old);
    // only batch lines: the oldest group, as before
    const c = line("c:latest", 700);
    expect(chooseNext(heads([head(a), head(c)]), state())).toBe(a);
  });

  test("after a preemption an interrupted batch drain still yields to plain work", () => {
    const a = line("a:latest", 0);
    const b = job("b:latest", 999);
    expect(chooseNext(heads([head(a), head(b)]), state({ resident: ["c:latest"], resume: "a:latest" }))).toBe(b);
  });

  // The rule, run forward: one plain job of model b arrives while model a is resident with
  // N queued jobs; each job takes 10 ms. b's job must not start later behind N batch lines than
  // behind N plain jobs — and behind batch lines it waits for none of them.
  const startOfPlain = (priorityOfA: number, n: number): { at: number; aRunBefore: number } => {
    let now = 1000;
    const queueA = Array.from({ length: n }, (_, i) => job("a:latest", i, priorityOfA));
    const b = job("b:latest", now);
    let resident = ["a:latest"];
    const leftAt: Record<string, number> = {};
    for (let ran = 0; ; ran++) {
      const hs = [...(queueA.length > 0 ? [head(queueA[0]!, queueA[0]!.queuedAt)] : []), head(b)];
      const chosen = chooseNext(heads(hs), { resident, now, agingCapMs: 500, leftAt })!;
      if (chosen === b) return { at: now, aRunBefore: ran };
      queueA.shift();
      if (resident[0] !== chosen.drainKey) {
        leftAt[resident[0]!] = now;
        resident = [chosen.drainKey];
      }
      now += 10;
    }
  };

  test.each([1, 10, 49, 50, 100, 1000])("a plain job of another model waits behind %d batch lines no longer than behind as many plain jobs", (n) => {
    const behindBatch = startOfPlain(BATCH_PRIORITY, n);
    const behindPlain = startOfPlain(0, n);
    expect(behindBatch.aRunBefore).toBe(0);
    expect(behindBatch.at).toBeLessThanOrEqual(behindPlain.at);
    // behind plain jobs it waits for the resident drain up to the aging cap (500 ms = 50 jobs)
    expect(behindPlain.aRunBefore).toBe(Math.min(n, 50));
  });
});
