// A request the target dropped again goes to the back of its lane (ADR 0030): a new place in
// the queue's order, in both lanes, behind everything queued when it came back — its id, its
// age and everything else about it unchanged.
import { afterEach, describe, expect, test } from "bun:test";
import { ASYNC, INTERACTIVE } from "../../src/queue/queue.ts";
import { testQueue, type TestQueue } from "../harness.ts";

let q: TestQueue | undefined;
afterEach(() => q?.remove());

describe("transition to queued with toBack", () => {
  test("interactive: the next request is the lane's head, the one sent back comes after those queued before it returned", () => {
    q = testQueue();
    const { queue } = q;
    const [a, b, c] = [0, 1, 2].map(() => queue.enqueue({ lane: INTERACTIVE, endpoint: "/api/chat", model: "llama3.2" }));
    queue.transition(a!.id, "working", { attempt: true });
    const back = queue.transition(a!.id, "queued", { toBack: true });
    expect(queue.heads().interactive?.id).toBe(b!.id);
    expect(back.seq).toBeGreaterThan(c!.seq);
    expect(back.createdAt).toBe(a!.createdAt);
    const d = queue.enqueue({ lane: INTERACTIVE, endpoint: "/api/chat", model: "llama3.2" });
    expect(d.seq).toBeGreaterThan(back.seq);
  });

  test("async: behind the jobs of its group queued before it came back; without toBack it keeps its place", () => {
    q = testQueue();
    const { queue } = q;
    const [a, b] = [0, 1].map(() => queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: "{}" }));
    queue.transition(a!.id, "working", { attempt: true });
    queue.transition(a!.id, "queued");
    expect(queue.heads().models[0]?.best.id).toBe(a!.id);
    queue.transition(a!.id, "working", { attempt: true });
    queue.transition(a!.id, "queued", { toBack: true });
    expect(queue.heads().models[0]?.best.id).toBe(b!.id);
    expect(queue.position(queue.get(a!.id)!)).toBe(1);
  });
});
