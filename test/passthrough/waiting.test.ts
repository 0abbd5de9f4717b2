// What a passthrough caller is told when its wait in the queue ends without a reply: a target
// that cannot be reached is news of its own, not Ollama's "maximum pending requests exceeded"
// (which is for a queue that is full, or a wait behind other work).
import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config.ts";
import { BUSY_MESSAGE } from "../../src/passthrough/relay.ts";
import type { SimOptions } from "../../src/sim/index.ts";
import { startStack, waitFor, type Stack, workerBusy } from "../harness.ts";

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const chat = (model = "llama3.2") => JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], stream: false });
const post = (path: string, body: string, signal?: AbortSignal) => fetch(`${stack!.url}${path}`, { method: "POST", body, signal });

async function start(sim: SimOptions, foreman: Partial<Config>) {
  stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, ...sim }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 100, ...foreman } });
  return stack;
}

/** The error the queue recorded for the one passthrough request that failed. */
function recordedError(s: Stack): string {
  const row = s.foreman.services.store.db.query("SELECT error FROM jobs WHERE lane = 0 AND status = 'failed'").get() as { error: string } | null;
  return row?.error ?? "";
}

describe("the maximum wait ends", () => {
  test("while the target sleeps: 503 saying the target is unreachable, in each dialect, and recorded so", async () => {
    const s = await start({ faults: { asleep: true } }, { interactiveMaxWaitMs: 300 });
    await waitFor(() => s.foreman.services.poller.up === false, { what: "the poller to see the target asleep" });
    const native = await post("/api/chat", chat());
    expect(native.status).toBe(503);
    const { error } = (await native.json()) as { error: string };
    expect(error).toMatch(/^the target is unreachable since \d{4}-\d\d-\d\dT.* waited 300 ms in the queue$/);
    expect(error).not.toContain("maximum pending requests");
    expect(recordedError(s)).toContain("the target is unreachable since");
    const openai = await post("/v1/chat/completions", chat());
    expect(openai.status).toBe(503);
    const body = (await openai.json()) as { error: { message: string; type: string } };
    expect(body.error.message).toStartWith("the target is unreachable since");
    expect(body.error.type).toBe("api_error");
  });

  test("while the target went down after the request was sent to it: the same", async () => {
    // the target refuses the request the worker sends, before the poller has noticed anything
    const s = await start({}, { interactiveMaxWaitMs: 500, pollIntervalMs: 3_600_000 });
    await waitFor(() => s.foreman.services.poller.up === true, { what: "the poller's first probe" });
    await s.sim.setFaults({ asleep: true });
    const res = await post("/api/generate", JSON.stringify({ model: "llama3.2", prompt: "x" }));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: string }).error).toStartWith("the target is unreachable since");
  });

  test("while the target works on other things: Ollama's busy message, as before", async () => {
    const s = await start({ models: [{ name: "slow", loadMs: 60_000 }, { name: "llama3.2" }] }, { interactiveMaxWaitMs: 300 });
    const blocker = new AbortController();
    const first = post("/api/chat", chat("slow"), blocker.signal).catch(() => null);
    await waitFor(() => workerBusy(s.foreman), { what: "the slow load to hold the worker" });
    const waited = await post("/api/chat", chat());
    expect([waited.status, await waited.json()]).toEqual([503, { error: BUSY_MESSAGE }]);
    blocker.abort();
    await first;
  });
});
