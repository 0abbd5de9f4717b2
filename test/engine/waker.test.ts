// Wake-on-LAN (ADR 0022): when foreman sends the magic packet (a pure decision, checked
// exhaustively), and a real foreman sending it to a UDP listener on loopback when work is
// queued for a target that is down. Nothing here sends to a broadcast or non-loopback address:
// FOREMAN_WAKE_MAC is unset unless a test sets it, and then FOREMAN_WAKE_ADDR is 127.0.0.1.
import { describe, expect, test } from "bun:test";
import { createSocket } from "node:dgram";
import { parseConfig } from "../../src/config.ts";
import { wakeDecision, type WakeState } from "../../src/engine/waker.ts";
import { ASYNC } from "../../src/queue/queue.ts";
import { perTest, testConfig, waitFor } from "../harness.ts";

const start = perTest();

describe("when to wake the target (pure)", () => {
  const state = (over: Partial<WakeState> = {}): WakeState => ({ targetUp: false, queued: 1, nextDueAt: null, lastSentAt: null, intervalMs: 60_000, now: 100_000, ...over });

  test("at once when work waits and the target is down; then at most once per interval while it stays down", () => {
    expect(wakeDecision(state())).toEqual({ kind: "now" });
    expect(wakeDecision(state({ lastSentAt: 90_000 }))).toEqual({ kind: "at", at: 150_000 });
    expect(wakeDecision(state({ lastSentAt: 40_000 }))).toEqual({ kind: "now" });
  });

  test("never for a target that is up or not probed yet, nor without work", () => {
    expect(wakeDecision(state({ targetUp: true }))).toEqual({ kind: "never" });
    expect(wakeDecision(state({ targetUp: null }))).toEqual({ kind: "never" });
    expect(wakeDecision(state({ queued: 0 }))).toEqual({ kind: "never" });
  });

  test("work not due yet (a scheduled start, a back-off) wakes the target when it falls due, not before (ADR 0035)", () => {
    expect(wakeDecision(state({ queued: 0, nextDueAt: 130_000 }))).toEqual({ kind: "at", at: 130_000 });
    expect(wakeDecision(state({ queued: 0, nextDueAt: 130_000, targetUp: true }))).toEqual({ kind: "never" });
    // work that may run now goes first; the interval still holds
    expect(wakeDecision(state({ queued: 1, nextDueAt: 130_000 }))).toEqual({ kind: "now" });
    expect(wakeDecision(state({ queued: 1, nextDueAt: 130_000, lastSentAt: 90_000 }))).toEqual({ kind: "at", at: 150_000 });
  });

  test("exhaustive: a packet is due exactly when the target is down, work waits and the interval has passed", () => {
    for (const targetUp of [true, false, null])
      for (const queued of [0, 1, 5])
        for (const lastSentAt of [null, 0, 40_000, 99_999, 100_000])
          for (const now of [100_000, 140_000, 160_000]) {
            const d = wakeDecision(state({ targetUp, queued, lastSentAt, now }));
            if (targetUp !== false || queued === 0) expect(d).toEqual({ kind: "never" });
            else if (lastSentAt === null || now >= lastSentAt + 60_000) expect(d).toEqual({ kind: "now" });
            else expect(d).toEqual({ kind: "at", at: lastSentAt + 60_000 });
          }
  });
});

describe("settings", () => {
  test("off unless FOREMAN_WAKE_MAC is set; the address defaults to the LAN's broadcast on port 9", () => {
    const parsed = parseConfig([], {});
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.config.wakeMac).toBeUndefined();
    expect(parsed.config.wakeAddr).toBe("255.255.255.255:9");
    expect(parsed.config.wakeIntervalMs).toBe(60_000);
    // the tests' foreman never wakes anything unless a test says so
    expect(testConfig().wakeMac).toBeUndefined();
  });

  test("a bad MAC or address stops the start with a message naming the variable", () => {
    expect(parseConfig([], { FOREMAN_WAKE_MAC: "00:11:22" })).toEqual({ ok: false, error: 'invalid FOREMAN_WAKE_MAC "00:11:22": expected a MAC address such as 00:11:22:33:44:55' });
    const bad = parseConfig(["--wake-addr", "mac.lan"], {});
    expect(bad.ok ? "" : bad.error).toStartWith('invalid --wake-addr "mac.lan": expected an IPv4 address and a UDP port');
  });
});

/** A UDP listener on loopback; what it receives, in order. */
async function listener() {
  const socket = createSocket("udp4");
  const packets: Buffer[] = [];
  socket.on("message", (m) => packets.push(m));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  start.defer(() => socket.close());
  return { port: socket.address().port, packets };
}

test("work queued for a target that is down sends the magic packet; nothing before; /status and /metrics count it", async () => {
  const udp = await listener();
  const mac = "00:11:22:aa:bb:cc";
  const { sim, foreman, url } = await start.stack({
    sim: { tokenDelayMs: 1, loadMs: 5, faults: { asleep: true } },
    foreman: { wakeMac: mac, wakeAddr: `127.0.0.1:${udp.port}`, wakeIntervalMs: 60_000, pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 500 },
  });
  const { waker, poller, queue, worker } = foreman.services;
  // the target is down but nothing waits: a few failed probes, no packet
  await waitFor(() => poller.up === false && poller.errors >= 3, { what: "the poller to see the target down, three probes" });
  expect(waker!.sent).toBe(0);
  const job = queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }) });
  worker.wake();
  const [packet] = await waitFor(() => udp.packets.length >= 1 && udp.packets, { what: "the magic packet on the loopback listener" });
  const bytes = [...packet!];
  expect(bytes).toHaveLength(102);
  expect(bytes.slice(0, 6)).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  for (let i = 0; i < 16; i++) expect(bytes.slice(6 + 6 * i, 12 + 6 * i)).toEqual([0x00, 0x11, 0x22, 0xaa, 0xbb, 0xcc]);
  const status = (await (await fetch(`${url}/status`)).json()) as { wake: Record<string, unknown> };
  expect(status.wake).toEqual({ mac, addr: `127.0.0.1:${udp.port}`, sent: 1, last_sent_at: expect.any(String), last_error: null });
  expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^foreman_target_wakes_total 1$/m);
  // more work while the interval runs sends nothing more
  queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "and" }] }) });
  expect(waker!.sent).toBe(1);
  // the target wakes: the work runs
  await sim.setFaults({ asleep: false });
  await waitFor(() => queue.get(job.id)!.status === "done", { what: "the job to run once the target is up" });
});

test("while the target stays down with work waiting, the packet is sent again after the interval", async () => {
  const udp = await listener();
  const { foreman } = await start.stack({
    sim: { faults: { asleep: true } },
    foreman: { wakeMac: "00:11:22:33:44:55", wakeAddr: `127.0.0.1:${udp.port}`, wakeIntervalMs: 1000, pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 500 },
  });
  foreman.services.queue.enqueue({ lane: ASYNC, endpoint: "/api/chat", model: "llama3.2", request: "{}" });
  await waitFor(() => udp.packets.length >= 2, { what: "a second magic packet after the interval", timeoutMs: 15_000 });
  const { sent, lastSentAt } = foreman.services.waker!;
  expect(sent).toBeGreaterThanOrEqual(2);
  expect(lastSentAt).not.toBeNull();
});

test("a scheduled job wakes a sleeping target when it falls due, not before (ADR 0035)", async () => {
  const udp = await listener();
  const { sim, foreman, url } = await start.stack({
    sim: { faults: { asleep: true } },
    foreman: { wakeMac: "00:11:22:33:44:55", wakeAddr: `127.0.0.1:${udp.port}`, wakeIntervalMs: 60_000, pollIntervalMs: 50, pollMaxBackoffMs: 100, connectTimeoutMs: 500 },
  });
  const { poller, waker } = foreman.services;
  await waitFor(() => poller.up === false, { what: "the poller to see the target down" });
  const res = await fetch(`${url}/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "hi" }] }, run_after: "1500ms" }) });
  expect(res.status).toBe(202);
  const job = (await res.json()) as { id: string; run_after: string };
  const due = Date.parse(job.run_after);
  expect(waker!.sent).toBe(0);
  await waitFor(() => udp.packets.length >= 1, { what: "the magic packet once the job falls due" });
  const sentAt = waker!.lastSentAt!;
  expect(sentAt).toBeGreaterThanOrEqual(due);
  await sim.setFaults({ asleep: false });
  await waitFor(() => foreman.services.queue.get(job.id)!.status === "done", { what: "the scheduled job to run once the target is up" });
});

test("without FOREMAN_WAKE_MAC there is no waker, /status says null and the counter stays 0", async () => {
  const { foreman, url } = await start.stack({ sim: { faults: { asleep: true } }, foreman: { pollIntervalMs: 50, connectTimeoutMs: 500 } });
  expect(foreman.services.waker).toBeNull();
  expect(((await (await fetch(`${url}/status`)).json()) as { wake: unknown }).wake).toBeNull();
  expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/^foreman_target_wakes_total 0$/m);
});
