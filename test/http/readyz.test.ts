// /readyz stays open for orchestrators, but without the token it says only ready or not: no
// target URL, no database error text. With the token (or with none configured) the details.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTestForeman, type TestForeman } from "../harness.ts";

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
