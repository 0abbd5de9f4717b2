// A full disk or a read-only database: enqueue answers 503 with a clear message, nothing is
// half-written, and foreman recovers once the database can be written again.
import { expect, test } from "bun:test";
import { perTest, waitFor, type TestForeman } from "../harness.ts";

const start = perTest();

const submit = (f: TestForeman, headers: Record<string, string> = {}) =>
  fetch(`${f.url}/jobs`, { method: "POST", headers, body: JSON.stringify({ request: { model: "llama3.2", messages: [{ role: "user", content: "x".repeat(50_000) }] } }) });
const rows = (f: TestForeman) => f.services.store.db.query("SELECT (SELECT COUNT(*) FROM jobs) AS jobs, (SELECT COUNT(*) FROM job_events) AS events").get();

test.each([
  ["read-only database", "PRAGMA query_only = ON", "PRAGMA query_only = OFF", "SQLITE_READONLY", true],
  // a passthrough row is small enough to fit in a page the database already has
  ["full disk", "PRAGMA max_page_count", "PRAGMA max_page_count = 1073741823", "SQLITE_FULL", false],
])("%s: POST /jobs answers 503, nothing is half-written, and it recovers", async (_name, breakIt, fixIt, code, passthroughToo) => {
  const { foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 } });
  const db = foreman.services.store.db;
  // one finished job first, so the worker is idle when the database breaks
  expect((await submit(foreman, { prefer: "wait=30" })).status).toBe(200);
  const before = rows(foreman);
  if (breakIt.includes("max_page_count")) {
    db.exec("VACUUM"); // no free pages left: the next insert needs a new one
    db.exec(`PRAGMA max_page_count = ${(db.query("PRAGMA page_count").get() as { page_count: number }).page_count}`);
  } else db.exec(breakIt);
  const res = await submit(foreman);
  expect(res.status).toBe(503);
  const body = (await res.json()) as { error: { message: string } };
  expect(body.error.message).toContain(code);
  expect(body.error.message).toContain("nothing was accepted");
  if (passthroughToo) {
    const chat = await fetch(`${foreman.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [], stream: false }) });
    expect(chat.status).toBe(503);
    expect(((await chat.json()) as { error: string }).error).toContain(code);
  }
  // counted for the alert on database errors
  expect(await (await fetch(`${foreman.url}/metrics`)).text()).toMatch(/\nforeman_database_errors_total [1-9]/);
  db.exec(fixIt);
  expect(rows(foreman)).toEqual(before);
  expect((await submit(foreman)).status).toBe(202);
  expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
});

test("a database that breaks while a passthrough request waits: the caller gets a 503, the worker recovers", async () => {
  const { sim, foreman } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0, faults: { asleep: true } }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 50 } });
  await waitFor(() => foreman.services.poller.up === false, { what: "the poller to see the target asleep" });
  const waiting = fetch(`${foreman.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [], stream: false }) });
  await waitFor(() => foreman.services.queue.waitingInteractive() >= 1, { what: "the request to wait in the queue" });
  foreman.services.store.db.exec("PRAGMA query_only = ON");
  await sim.setFaults({ asleep: false });
  const res = await waiting;
  expect(res.status).toBe(503);
  expect(((await res.json()) as { error: string }).error).toContain("readonly");
  foreman.services.store.db.exec("PRAGMA query_only = OFF");
  const again = await fetch(`${foreman.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [], stream: false }) });
  expect(again.status).toBe(200);
});
