// /readyz stays open for orchestrators, but without the token it says only ready or not: no
// target URL, no database error text. With the token (or with none configured) the details.
// Ready means able to accept work: a database that refuses writes is not ready.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chatRequest, perTest, postJob, startTestForeman, waitFor, type TestForeman } from "../harness.ts";
import { storageFaults } from "../store/faults.ts";

let guarded: TestForeman;
let open: TestForeman;
beforeAll(async () => {
  guarded = await startTestForeman({ target: "http://10.1.2.3:11434", token: "secret", pollIntervalMs: 3_600_000 });
  open = await startTestForeman({ target: "http://10.1.2.3:11434", pollIntervalMs: 3_600_000 });
});
afterAll(async () => {
  await guarded.stop();
  await open.stop();
});

const readyz = (base: string, token?: string) => fetch(`${base}/readyz`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

describe("GET /readyz", () => {
  test.each([
    ["no token", undefined],
    ["a wrong token", "nope"],
  ])("with %s: 200 and the status alone", async (_what, token) => {
    const res = await readyz(guarded.url, token);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ status: "ready" });
    expect(text).not.toContain("10.1.2.3");
  });

  /** The details as today; whether the poller has given up on the unroutable target yet does not matter here. */
  const details = async (res: Response) => {
    const body = (await res.json()) as { target: { up: unknown } };
    return { ...body, target: { ...body.target, up: typeof body.target.up } };
  };
  const expected = { status: "ready", database: { ok: true }, target: { url: "http://10.1.2.3:11434", up: expect.stringMatching(/^(object|boolean)$/) } };

  test("with the token: the database and the target as well", async () => {
    expect(await details(await readyz(guarded.url, "secret"))).toEqual(expected);
  });

  test("with no token configured: the details for everyone, as the rest of the API", async () => {
    expect(await details(await readyz(open.url))).toEqual(expected);
  });
});

// Ready means foreman can accept work: a database that refuses writes (a SELECT still works) or
// a worker stuck on an end it cannot write is not ready, and the reason is given with the token.
describe("GET /readyz when foreman cannot accept work", () => {
  const start = perTest();

  test("a database that refuses writes: 503, the cause with the token, nothing without; ready again once it takes writes", async () => {
    const foreman = await start.foreman({ target: "http://10.1.2.3:11434", token: "secret", pollIntervalMs: 3_600_000 });
    const db = foreman.services.store.db;
    db.exec("PRAGMA query_only = ON");
    const bare = await readyz(foreman.url);
    expect(bare.status).toBe(503);
    expect(await bare.json()).toEqual({ status: "unavailable" });
    const told = await readyz(foreman.url, "secret");
    expect(told.status).toBe(503);
    const body = (await told.json()) as { status: string; database: { ok: boolean; error: string } };
    expect(body.status).toBe("unavailable");
    expect(body.database.ok).toBe(false);
    expect(body.database.error).toContain("SQLITE_READONLY");
    db.exec("PRAGMA query_only = OFF");
    expect((await readyz(foreman.url)).status).toBe(200);
  });

  test("a finished job whose end cannot be written: 503 naming the job, ready again once it is written", async () => {
    const { foreman, url } = await start.stack({ sim: { tokenDelayMs: 0, loadMs: 0 } });
    const faults = storageFaults(foreman.services.store.db);
    faults.fail({ to: "done" });
    const { job } = await postJob(url, { request: chatRequest() });
    const body = await waitFor(async () => {
      const res = await readyz(url);
      return res.status === 503 && ((await res.json()) as { database: { error: string } });
    }, { what: "/readyz to fail" });
    expect(body.database.error).toContain(job.id);
    expect(body.database.error).toContain("database or disk is full");
    faults.clear();
    await waitFor(async () => (await readyz(url)).status === 200, { what: "/readyz to be ready again" });
  });
});
