// The bearer token, and the one-line warning at start-up when foreman needs none while the
// network can reach it (model management passes straight through to the target).
import { describe, expect, test } from "bun:test";
import { bearerMatches, openAccessWarning } from "../../src/http/auth.ts";
import { createLogger } from "../../src/ops/log.ts";
import { perTest } from "../harness.ts";

const start = perTest();

describe("bearer token", () => {
  test("only the exact token, after Bearer, matches", () => {
    expect(bearerMatches("Bearer s3cret", "s3cret")).toBe(true);
    expect(bearerMatches("bearer  s3cret ", "s3cret")).toBe(true);
    for (const header of [null, "", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"]) expect(bearerMatches(header, "s3cret")).toBe(false);
  });
});

describe("open access warning", () => {
  test("beyond loopback without a token; never on loopback or with a token", () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.20", "[fd00::1]", "foreman.lan"]) expect(openAccessWarning(host, undefined)).toContain(`listening on ${host} with no FOREMAN_TOKEN`);
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"]) expect(openAccessWarning(host, undefined)).toBeUndefined();
    expect(openAccessWarning("0.0.0.0", "tok")).toBeUndefined();
  });

  async function startupLines(overrides: { host: string; token?: string }): Promise<Record<string, unknown>[]> {
    const lines: string[] = [];
    await start.foreman({ target: "http://127.0.0.1:9", ...overrides }, { log: createLogger({ level: "info", format: "json", write: (l) => lines.push(l) }) });
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  test("foreman on 0.0.0.0 without FOREMAN_TOKEN says so once, in one line, at start-up", async () => {
    const warnings = (await startupLines({ host: "0.0.0.0" })).filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/^listening on 0\.0\.0\.0 with no FOREMAN_TOKEN: .*\/api\/pull, \/api\/delete.*; set FOREMAN_TOKEN, or listen on 127\.0\.0\.1$/);
    expect(String(warnings[0]!.msg)).not.toContain("\n");
  });

  test("no warning with a token, or on loopback", async () => {
    for (const overrides of [{ host: "0.0.0.0", token: "a-long-random-token" }, { host: "127.0.0.1" }]) {
      const lines = await startupLines(overrides);
      expect(lines.some((l) => l.msg === "foreman listening")).toBe(true);
      expect(lines.filter((l) => String(l.msg).includes("FOREMAN_TOKEN"))).toEqual([]);
    }
  });
});
