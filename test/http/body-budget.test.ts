// The body budget (FOREMAN_BODY_BUDGET_BYTES): bodies read whole share one bound on memory; a
// body that does not fit waits its turn within the body deadline, then gets a 503 with
// Retry-After in its caller's dialect. The policy alone, then a real foreman.
import { afterEach, describe, expect, test } from "bun:test";
import { BodyBudget, fits } from "../../src/http/body-budget.ts";
import { chatRequest, startStack, startTestForeman, waitFor, type Stack } from "../harness.ts";
import { startBlobSink } from "../passthrough/blob-sink.ts";

describe("the budget's rule", () => {
  test("a body fits beside others up to the budget; alone, any body fits", () => {
    expect(fits(0, 10, 100)).toBe(true);
    expect(fits(90, 10, 100)).toBe(true);
    expect(fits(91, 10, 100)).toBe(false);
    expect(fits(0, 1000, 100)).toBe(true);
    expect(fits(1, 1000, 100)).toBe(false);
  });

  test("waiters are served in arrival order as room comes back, and one whose deadline passes leaves the line", async () => {
    const budget = new BodyBudget(100);
    const never = new Promise<never>(() => {});
    expect(await budget.take(80, never)).toBe(true);
    const late = Promise.withResolvers<never>();
    const big = budget.take(60, late.promise);
    const small = budget.take(10, never);
    let smallTaken = false;
    void small.then(() => (smallTaken = true));
    await Bun.sleep(0);
    // room for the small one, but it is behind the big one
    expect(smallTaken).toBe(false);
    late.reject(new Error("deadline"));
    expect(await big).toBe(false);
    expect(await small).toBe(true);
    expect(budget.used).toBe(90);
    budget.give(80);
    expect(await budget.take(60, never)).toBe(true);
    expect(budget.used).toBe(70);
  });
});

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const BUDGET = 64 * 1024;
/** A chat request of about 40 KiB: two do not fit in the budget together. */
const bulky = (tag: string) => chatRequest("llama3.2", `${tag} ${"x".repeat(40 * 1024)}`);

/** Starts foreman and takes most of its budget with a job whose reply waits (Prefer: wait) for a slow target. */
async function withBudgetTaken(bodyTimeoutMs: number): Promise<{ stack: Stack; holder: Promise<Response> }> {
  stack = await startStack({ sim: { tokenDelayMs: 50, loadMs: 0, responseTokens: 30 }, foreman: { bodyBudgetBytes: BUDGET, bodyTimeoutMs } });
  const holder = fetch(`${stack.url}/jobs`, { method: "POST", headers: { prefer: "wait=30" }, body: JSON.stringify({ request: bulky("holder") }) });
  const s = stack;
  await waitFor(() => s.foreman.services.bodies.used > 0, { what: "the first body to take its share of the budget" });
  return { stack: s, holder };
}

describe("past the budget", () => {
  test.each([
    ["/jobs", { request: bulky("late") }, (b: any) => b.error.message],
    ["/api/chat", { ...bulky("late"), stream: false }, (b: any) => b.error],
    ["/v1/chat/completions", bulky("late"), (b: any) => b.error.message],
  ])("on %s: a body that cannot get room within the body deadline gets a 503 with Retry-After, in the caller's dialect", async (path, body, message) => {
    const { stack, holder } = await withBudgetTaken(300);
    const res = await fetch(`${stack.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(message(await res.json())).toMatch(/FOREMAN_BODY_BUDGET_BYTES/);
    // the holder is unharmed, and its share comes back once it is answered
    expect((await holder).status).toBe(200);
    await waitFor(() => stack.foreman.services.bodies.used === 0, { what: "the budget to be given back" });
  }, 30_000);

  test("a body that gets room within the deadline waits its turn and is served", async () => {
    const { stack, holder } = await withBudgetTaken(60_000);
    const waiting = fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ ...bulky("waits"), stream: false }) });
    const first = await holder;
    expect(first.status).toBe(200);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { done: boolean }).done).toBe(true);
    await waitFor(() => stack.foreman.services.bodies.used === 0, { what: "the budget to be given back" });
  }, 30_000);
});

test("blob uploads stream past the budget: one larger than the whole budget goes through while a body read whole holds it", async () => {
  const sink = startBlobSink();
  const foreman = await startTestForeman({ target: sink.url, bodyBudgetBytes: BUDGET, bodyTimeoutMs: 30_000, pollIntervalMs: 3_600_000 });
  // a chat body that declares 60,000 bytes and sends a few: its share is taken before it is read
  const socket = await Bun.connect({ hostname: "127.0.0.1", port: foreman.port, socket: { data() {} } });
  try {
    socket.write(`POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n{"model":`);
    await waitFor(() => foreman.services.bodies.used === 60_000, { what: "the chat body's share of the budget" });
    const bytes = new Uint8Array(4 * BUDGET).fill(7);
    const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
    const res = await fetch(`${foreman.url}/api/blobs/${digest}`, { method: "POST", body: bytes });
    expect(res.status).toBe(201);
    expect(sink.uploads.map((u) => [u.bytes, u.outcome])).toEqual([[bytes.byteLength, "stored"]]);
    expect(foreman.services.bodies.used).toBe(60_000);
  } finally {
    socket.end();
    await foreman.stop();
    sink.stop();
  }
}, 30_000);
