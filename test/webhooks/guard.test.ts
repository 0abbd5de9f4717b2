// The URL policy at the edges: at submission (on the literal host, and after DNS for a name),
// at every delivery after DNS — a restart with a stricter allow list, a DNS answer that changes
// (rebinding) — and the connection going to the address that was checked. Every request here
// goes to loopback; the private and metadata addresses are only ever judged, never sent to.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { startForeman, StartupError } from "../../src/server.ts";
import { startSimulator } from "../../src/sim/index.ts";
import { pin, pinnedRequest, WebhookGuard, type Resolver } from "../../src/webhooks/guard.ts";
import { NOT_LISTED, parseAllowList, type AllowList } from "../../src/webhooks/policy.ts";
import { startStack, tempDir, testConfig, waitFor, type Stack, type StackOptions } from "../harness.ts";
import { chatRequest, getJob, postJob } from "../harness.ts";
import { deliveriesOf, startReceiver, type Receiver } from "./receivers.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const stop of cleanup.splice(0).reverse()) await stop();
});

function receiver(answer?: Parameters<typeof startReceiver>[0], options?: Parameters<typeof startReceiver>[1]): Receiver {
  const r = startReceiver(answer, options);
  cleanup.push(() => r.stop());
  return r;
}

async function stack(options: StackOptions): Promise<Stack> {
  const s = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0 }, ...options });
  cleanup.push(() => s.stop());
  return s;
}

function allowList(text: string): AllowList {
  const allow = parseAllowList(text);
  if (typeof allow === "string") throw new Error(allow);
  return allow;
}

/** A DNS stand-in: names to addresses; a name not in the table does not resolve. */
const dns =
  (table: Record<string, string[]>): Resolver =>
  async (host) => {
    const found = table[host];
    if (!found) throw new Error(`getaddrinfo ENOTFOUND ${host}`);
    return found;
  };

describe("at submission", () => {
  test("without an allow list, loopback and cloud metadata webhooks are refused with a 400 naming the field, /webhook in either form", async () => {
    const s = await stack({ foreman: { webhookAllow: "" } });
    for (const [webhook, what] of [
      ["http://127.0.0.1:9/hook", "loopback"],
      [{ url: "http://169.254.169.254/latest/meta-data/" }, "link-local"],
      [{ url: "http://[::1]:9/hook", events: ["job.done"] }, "loopback"],
      ["http://0.0.0.0:9/hook", "unspecified"],
    ] as const) {
      const { status, raw } = await postJob(s.url, { request: chatRequest(), webhook });
      expect(status).toBe(400);
      expect(raw).toEqual({ error: { status: 400, field: "/webhook", message: expect.stringMatching(new RegExp(`^/webhook: webhook host .* is an? ${what}`)) } });
    }
    // and so are the refusals of its shape, in both forms
    for (const webhook of ["ftp://x/y", { url: "ftp://x/y" }, { url: "" }, { url: "http://hooks.example/", events: ["job.bogus"] }, { url: "http://hooks.example/", extra: 1 }, 42]) {
      const { status, raw } = await postJob(s.url, { request: chatRequest(), webhook });
      expect(status).toBe(400);
      expect((raw as { error: { field: string } }).error.field).toBe("/webhook");
    }
    expect(s.foreman.services.store.db.query("SELECT COUNT(*) AS n FROM jobs").get()).toEqual({ n: 0 });
  });

  test("without an allow list, private LAN hosts pass the check (judged only: nothing is sent)", async () => {
    const guard = new WebhookGuard(allowList(""), dns({ "n8n.lan": ["192.168.1.20"], "nas.lan": ["10.0.0.7", "fd00::7"] }));
    for (const url of ["http://10.1.2.3:5678/webhook/llm", "http://192.168.1.10/hook", "https://172.16.4.4/x", "http://n8n.lan:5678/webhook", "https://nas.lan/hook"]) expect(await guard.check(url)).toBeUndefined();
  });

  test("a name is judged by what it resolves to; a name that does not resolve is judged on its name alone", async () => {
    const table = { "metadata.google.internal": ["169.254.169.254"], "sneaky.example": ["203.0.113.9", "127.0.0.1"], "hooks.lan": ["192.168.1.5"] };
    const open = new WebhookGuard(allowList(""), dns(table));
    expect(await open.check("http://metadata.google.internal/computeMetadata/v1/")).toMatch(/resolves to 169\.254\.169\.254, which is a link-local address/);
    expect(await open.check("https://sneaky.example/hook")).toMatch(/resolves to 127\.0\.0\.1, which is a loopback address/);
    // not resolvable now: accepted, and every delivery resolves and judges it again
    expect(await open.check("http://not-yet.lan/hook")).toBeUndefined();
    const narrow = new WebhookGuard(allowList("hooks.lan"), dns(table));
    expect(await narrow.check("http://hooks.lan/hook")).toBeUndefined();
    expect(await narrow.check("http://not-yet.lan/hook")).toBe(
      "webhook host not-yet.lan is not in FOREMAN_WEBHOOK_ALLOW (a list replaces the default policy: only what it names is allowed; add * to keep every other host too, e.g. FOREMAN_WEBHOOK_ALLOW=*,127.0.0.1)",
    );
  });

  test("a refused FOREMAN_WEBHOOK_URL stops the start, saying why", async () => {
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    for (const [webhookUrl, webhookAllow, why] of [
      ["http://169.254.169.254/hook", "", /link-local/],
      ["http://127.0.0.1:9/hook", "", /loopback/],
      ["http://10.0.0.9/hook", "192.168.0.0/16", /not in FOREMAN_WEBHOOK_ALLOW/],
    ] as const) {
      const start = startForeman(testConfig({ target: "http://127.0.0.1:9", webhookUrl, webhookAllow }, dir.path));
      const err = await start.then(
        (f) => f.stop().then(() => null),
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toStartWith("FOREMAN_WEBHOOK_URL is refused: ");
    }
  });
});

describe("at delivery", () => {
  test("after a restart with a stricter allow list, old jobs' deliveries are refused: failed with the reason, not retried, not sent", async () => {
    const hook = receiver(() => "hang");
    const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0 });
    cleanup.push(() => sim.stop());
    const dir = tempDir();
    cleanup.push(() => dir.remove());
    const first = await startForeman(testConfig({ target: sim.url, webhookAllow: "127.0.0.1" }, dir.path), { webhooks: { timeoutMs: 60_000 } });
    const { job } = await postJob(first.url, { request: chatRequest(), webhook: hook.url });
    expect((await getJob(first.url, job.id, 30)).status).toBe("done");
    await waitFor(() => hook.open === 1, { what: "the first delivery in flight" });
    await first.stop(); // the attempt in flight is not counted: it would go out after the restart
    const before = hook.hits.length;

    const second = await startForeman(testConfig({ target: sim.url, webhookAllow: "192.168.0.0/16" }, dir.path), { webhooks: { schedule: [10, 10, 10], timeoutMs: 60_000 } });
    cleanup.push(() => second.stop());
    const deliveries = await waitFor(async () => {
      const d = await deliveriesOf(second.url, job.id);
      return d.every((x) => x.status === "failed") ? d : null;
    }, { what: "every delivery refused" });
    expect(deliveries.length).toBeGreaterThanOrEqual(3);
    for (const d of deliveries) {
      expect(d.attempts).toEqual([{ status: null, error: `refused by the webhook URL policy: webhook host 127.0.0.1 ${NOT_LISTED}`, at: expect.any(String), duration_ms: expect.any(Number) }] as never);
    }
    expect(hook.hits.length).toBe(before);
  });

  test("a name is resolved again at delivery: a DNS answer that turns to cloud metadata after submission is refused (rebinding)", async () => {
    const hook = receiver();
    let lookups = 0;
    const rebinding: Resolver = async () => (lookups++ === 0 ? ["127.0.0.1"] : ["169.254.169.254"]);
    const s = await stack({ foreman: { webhookAllow: "rebind.test,127.0.0.1" }, start: { webhooks: { resolve: rebinding, schedule: [10, 10], timeoutMs: 5000 } } });
    const { status, job } = await postJob(s.url, { request: chatRequest(), webhook: { url: `http://rebind.test:${hook.port}/hook`, events: ["job.queued", "job.done"] } });
    expect(status).toBe(202);
    const deliveries = await waitFor(async () => {
      const d = await deliveriesOf(s.url, job.id);
      return d.length === 2 && d.every((x) => x.status === "failed") ? d : null;
    }, { what: "both deliveries refused" });
    for (const d of deliveries) expect(d.attempts.map((a) => a.error)).toEqual(["refused by the webhook URL policy: webhook host rebind.test resolves to 169.254.169.254, which is a link-local address (cloud metadata lives at 169.254.169.254); refused unless FOREMAN_WEBHOOK_ALLOW names it"]);
    expect(hook.hits).toEqual([]);
  });

  test("the connection goes to the checked address, with the URL's name in the Host header", async () => {
    const hook = receiver();
    // receiver.test exists only in this table: the request can only have reached the receiver through the address foreman checked
    const s = await stack({ start: { webhooks: { resolve: dns({ "receiver.test": ["127.0.0.1"] }), timeoutMs: 5000 } } });
    const { job } = await postJob(s.url, { request: chatRequest(), webhook: { url: `http://receiver.test:${hook.port}/hook`, events: ["job.done"] } });
    await waitFor(() => hook.hits.length === 1, { what: "the delivery via the resolved address" });
    expect(hook.hits[0]!.headers.get("host")).toBe(`receiver.test:${hook.port}`);
    expect(hook.hits[0]!.json.data.id).toBe(job.id);
  });

  test("when the first checked address refuses the connection, the next one is tried in the same attempt", async () => {
    const hook = receiver();
    const s = await stack({ foreman: { webhookAllow: "127.0.0.1,::1" }, start: { webhooks: { resolve: dns({ "receiver.test": ["::1", "127.0.0.1"] }), timeoutMs: 5000 } } });
    const { job } = await postJob(s.url, { request: chatRequest(), webhook: { url: `http://receiver.test:${hook.port}/hook`, events: ["job.done"] } });
    await waitFor(() => hook.hits.length === 1, { what: "the delivery via the second address" });
    const [delivery] = await waitFor(async () => {
      const d = await deliveriesOf(s.url, job.id);
      return d[0]?.status === "delivered" ? d : null;
    }, { what: "the delivery recorded" });
    expect(delivery!.attempts.map((a) => a.status)).toEqual([200]);
  });

  test("https to a checked address keeps the name for TLS: the certificate is verified against the URL's host, not the address", async () => {
    const fixtures = join(import.meta.dir, "fixtures");
    const tls = { cert: await Bun.file(join(fixtures, "receiver.test.crt")).text(), key: await Bun.file(join(fixtures, "receiver.test.key")).text() };
    const hook = receiver(() => 200, { tls });
    const body = JSON.stringify({ type: "job.done", timestamp: new Date().toISOString(), data: {} });
    const send = (url: string) => {
      const [target, init] = pinnedRequest(pin(new URL(url), "127.0.0.1"), { method: "POST", body, headers: { "content-type": "application/json" }, redirect: "manual" });
      // the dispatcher's request, with the test's certificate authority added
      return fetch(target, { ...init, tls: { ...init.tls, ca: tls.cert } });
    };
    expect((await send(`https://receiver.test:${hook.port}/hook`)).status).toBe(200);
    expect(hook.hits[0]!.headers.get("host")).toBe(`receiver.test:${hook.port}`);
    // the same address under another name fails verification: the name, not the IP, is what is checked
    expect(await send(`https://other.test:${hook.port}/hook`).catch((e: unknown) => e)).toMatchObject({ code: "ERR_TLS_CERT_ALTNAME_INVALID" });
  });
});
