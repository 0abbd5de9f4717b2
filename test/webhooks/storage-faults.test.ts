// A database that refuses to record a webhook attempt (read-only, full) neither stops foreman
// nor loses the delivery: the attempt is counted as a database error, the dispatcher pauses,
// and the delivery goes out again once the database takes writes — after pauses that back off
// as a failed attempt's retries would, not every 2 s (each re-send reaches the receiver again).
import type { Database } from "bun:sqlite";
import { expect, test } from "bun:test";
import { chatRequest, perTest, postJob, waitFor } from "../harness.ts";

const start = perTest();

/** A receiver that makes foreman's database read-only while the first attempt is in flight, then answers 200: the webhook-id of every send. */
function breakingReceiver(db: Database): { ids: string[]; port: number } {
  const ids: string[] = [];
  const receiver = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) => {
      ids.push(req.headers.get("webhook-id") ?? "");
      if (ids.length === 1) db.exec("PRAGMA query_only = ON");
      return new Response("ok");
    },
  });
  start.defer(() => receiver.stop(true));
  return { ids, port: receiver.port! };
}

test("an attempt the database cannot record: no crash, a database error counted, the delivery sent again later", async () => {
  const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { webhooks: { schedule: [20, 1000], timeoutMs: 5000 } } });
  const db = foreman.services.store.db;
  const { ids, port } = breakingReceiver(db);
  const { job } = await postJob(foreman.url, { request: chatRequest(), webhook: { url: `http://127.0.0.1:${port}/hook`, events: ["job.done"] } }, { prefer: "wait=30" });
  expect(job.status).toBe("done");
  await waitFor(async () => /\nforeman_database_errors_total [1-9]/.test(await (await fetch(`${foreman.url}/metrics`)).text()), { what: "the refused write to be counted" });
  expect(foreman.services.dispatcher.deliveries(job.id).map((d) => d.status)).toEqual(["pending"]);
  db.exec("PRAGMA query_only = OFF");
  await waitFor(() => foreman.services.dispatcher.deliveries(job.id)[0]?.status === "delivered", { what: "the delivery to go out again and be recorded", timeoutMs: 15_000 });
  // the same delivery both times (receivers dedupe on webhook-id), and no loop while the database was read-only
  expect(new Set(ids).size).toBe(1);
  expect(ids.length).toBeGreaterThanOrEqual(2);
  expect(ids.length).toBeLessThanOrEqual(4);
});

test("while attempts cannot be recorded, the re-sends back off on the retry schedule", async () => {
  // the schedule's third step is far beyond the test: after three sends, no fourth
  const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 }, start: { webhooks: { schedule: [100, 300, 120_000], timeoutMs: 5000 } } });
  const db = foreman.services.store.db;
  const { ids, port } = breakingReceiver(db);
  start.defer(() => db.exec("PRAGMA query_only = OFF"));
  await postJob(foreman.url, { request: chatRequest(), webhook: { url: `http://127.0.0.1:${port}/hook`, events: ["job.done"] } }, { prefer: "wait=30" });
  await waitFor(() => ids.length >= 3, { what: "three sends of the delivery its attempts could not be recorded for" });
  // with a fixed 2 s pause the fourth send came 2 s after the third
  await Bun.sleep(3000);
  expect(ids.length).toBe(3);
  expect(new Set(ids).size).toBe(1);
});
