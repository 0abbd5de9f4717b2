// Nothing foreman reports is ahead of the disk (ADR 0016): a 202, a state a listener hears of,
// a webhook and a job API reply all wait for the fsync that covers the commit they report —
// though the worker itself never waits for it.
import { Database } from "bun:sqlite";
import { afterEach, describe, expect, test } from "bun:test";
import { fsync } from "node:fs";
import { join } from "node:path";
import type { Fsync } from "../../src/store/durability.ts";
import type { Job } from "../../src/queue/view.ts";
import { startStack, waitFor, type Stack } from "../harness.ts";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An fsync that can be held: while stalled, the disk has not answered yet. */
function stallableDisk() {
  const held: (() => void)[] = [];
  let stalled = false;
  const fsyncWal: Fsync = (fd, done) => {
    if (stalled) held.push(() => fsync(fd, done));
    else fsync(fd, done);
  };
  return {
    fsync: fsyncWal,
    stall: () => (stalled = true),
    /** fsyncs asked for and not answered */
    get held() {
      return held.length;
    },
    release() {
      stalled = false;
      for (const f of held.splice(0)) f();
    },
  };
}

function receiver() {
  const got: { id: string; type: string; job: string }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = (await req.json()) as { type: string; data: { id: string } };
      got.push({ id: req.headers.get("webhook-id")!, type: body.type, job: body.data.id });
      return new Response(null, { status: 204 });
    },
  });
  cleanups.push(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/hook`, got };
}

async function stack(options: Parameters<typeof startStack>[0]): Promise<Stack & { reader: Database }> {
  const s = await startStack(options);
  const reader = new Database(join(s.foreman.dir, "foreman.db"), { readonly: true });
  cleanups.push(() => s.stop(), () => reader.close());
  return { ...s, reader };
}

const chat = (model: string) => ({ model, messages: [{ role: "user", content: "hello" }] });
/** Settles a promise into a flag, so a test can see whether it has resolved without waiting on it. */
function track<T>(p: Promise<T>) {
  const t = { done: false, value: undefined as T | undefined };
  void p.then((v) => {
    t.value = v;
    t.done = true;
  });
  return t;
}

describe("reports wait for the disk", () => {
  test("with the disk stalled the job still runs, but no 202, listener, webhook or job reply goes out; once it answers, all do, in order", async () => {
    const disk = stallableDisk();
    const hook = receiver();
    const s = await stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { fsync: disk.fsync } });
    cleanups.push(() => disk.release());
    const heard: string[] = [];
    s.foreman.services.watch.subscribe(null, (_job, event) => heard.push(event.type));
    disk.stall();

    const accepted = track(fetch(`${s.url}/jobs`, { method: "POST", body: JSON.stringify({ request: chat("llama3.2"), webhook: hook.url }) }));
    const row = () => s.reader.query<{ id: string; status: string }, []>("SELECT id, status FROM jobs WHERE lane = 1").get();
    // committed (a second connection sees it) and run to the end by the worker, which never waits for the disk
    const job = await waitFor(() => (row()?.status === "done" ? row() : null), { what: "the worker to run the job while the disk is stalled" });
    const polled = track(fetch(`${s.url}/jobs/${job!.id}`));
    await waitFor(() => s.sim.counters.requests["POST /api/chat"] === 1 && disk.held > 0, { what: "the target's answer and an fsync asked for" });
    // requests sent after it are answered: the job reply had its turn (it cannot spuriously fail: while stalled it cannot go out)
    for (let i = 0; i < 3; i++) expect((await fetch(`${s.url}/healthz`)).status).toBe(200);

    expect(accepted.done).toBe(false);
    expect(polled.done).toBe(false);
    expect(heard).toEqual([]);
    expect(hook.got).toEqual([]);

    disk.release();
    const reply = (await waitFor(() => accepted.value, { what: "the 202" }))!;
    expect(reply.status).toBe(202);
    expect(((await reply.json()) as Job).id).toBe(job!.id);
    const view = (await (await waitFor(() => polled.value, { what: "the GET reply" }))!.json()) as Job;
    expect(view.status).toBe("done");
    expect(heard).toEqual(["queued", "loading", "working", "done"]);
    await waitFor(() => hook.got.length === 4, { what: "a webhook delivery per state" });
    expect(hook.got.map((d) => d.type)).toEqual(["job.queued", "job.loading", "job.working", "job.done"]);
  });

  test("in a busy run, every state a listener hears of and every webhook sent was on disk first, and a second connection sees it", async () => {
    const hook = receiver();
    const s = await stack({ sim: { tokenDelayMs: 0, loadMs: 1, maxLoaded: 1 } });
    const { queue, store, watch } = s.foreman.services;
    const { durability } = store;
    // the number of commits written once the commit carrying each event is done
    const writtenWith = new Map<number, number>();
    queue.onEvent((_job, event) => queue.whenCommitted(() => writtenWith.set(event.id, durability.written)));
    const onDisk = (eventId: number) => durability.synced >= writtenWith.get(eventId)! && s.reader.query("SELECT 1 FROM job_events WHERE id = ?").get(eventId) !== null;
    const heard: { id: number; onDisk: boolean }[] = [];
    watch.subscribe(null, (job, event) => {
      if (job.lane === 1) heard.push({ id: event.id, onDisk: onDisk(event.id) });
    });
    const sent: { id: string; onDisk: boolean }[] = [];
    const check = setInterval(() => {
      for (const d of hook.got.splice(0)) {
        const row = s.reader.query<{ event_id: number }, [string]>("SELECT event_id FROM webhook_deliveries WHERE webhook_id = ?").get(d.id);
        sent.push({ id: d.id, onDisk: row !== null && durability.synced >= writtenWith.get(row.event_id)! });
      }
    }, 1);
    cleanups.push(() => clearInterval(check));

    const models = ["llama3.2", "mistral", "qwen2.5:0.5b"];
    const posts = Array.from({ length: 15 }, (_, i) => fetch(`${s.url}/jobs`, { method: "POST", body: JSON.stringify({ request: chat(models[i % 3]!), webhook: hook.url }) }));
    expect((await Promise.all(posts)).map((r) => r.status)).toEqual(Array(15).fill(202));
    await waitFor(() => s.reader.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM jobs WHERE status = 'done'").get()!.n === 15, { what: "all 15 jobs done" });
    const deliveries = () => s.reader.query<{ n: number }, []>("SELECT COUNT(*) AS n FROM webhook_deliveries").get()!.n;
    await waitFor(() => sent.length > 0 && sent.length === deliveries(), { what: "every webhook delivery sent and checked" });

    expect(heard.length).toBeGreaterThanOrEqual(45);
    expect(heard.filter((h) => !h.onDisk)).toEqual([]);
    expect(sent.filter((d) => !d.onDisk)).toEqual([]);
  });

  test("with FOREMAN_SYNC=normal nothing waits for the disk: a 202 goes out although it is stalled", async () => {
    const disk = stallableDisk();
    const s = await stack({ foreman: { sync: "normal" }, start: { fsync: disk.fsync } });
    cleanups.push(() => disk.release());
    disk.stall();
    const reply = await fetch(`${s.url}/jobs`, { method: "POST", body: JSON.stringify({ request: chat("llama3.2") }) });
    expect(reply.status).toBe(202);
    expect(disk.held).toBe(0);
  });
});
