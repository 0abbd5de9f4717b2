// `foreman usage`: the table (estimated work on rows of its own, a total line), --json as
// GET /usage gives it, --by checked before anything is sent, a bad --since answered by foreman;
// and the TypeScript client's usage().
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ForemanClient } from "../../clients/ts/index.ts";
import type { UsageReport } from "../../clients/ts/types.ts";
import { spent, usageTable } from "../../src/cli/usage.ts";
import { startStack, type Stack, runCli } from "../harness.ts";

setDefaultTimeout(60_000);

let stack: Stack;
let client: ForemanClient;

beforeAll(async () => {
  stack = await startStack();
  client = new ForemanClient({ baseUrl: stack.url });
  await client.run({ request: { model: "llama3.2", prompt: "a", options: { num_predict: 5 } }, endpoint: "/api/generate", metadata: { tag: "cli" } });
  await client.run({ request: { model: "mistral", prompt: "b", options: { num_predict: 3 } }, endpoint: "/api/generate" });
  // a streamed /v1 reply without usage: estimated
  const res = await fetch(`${stack.url}/v1/chat/completions`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "c" }], stream: true, max_tokens: 4 }) });
  await res.text();
});

afterAll(async () => {
  await stack.stop();
});

const foreman = (args: string[]) => runCli(stack.url, args);

describe("foreman usage", () => {
  test("the client's usage(): one row per group, estimated apart", async () => {
    const report = await client.usage({ since: "1h", by: "model" });
    expect(report.by).toBe("model");
    expect(report.rows.map((r) => [r.group, r.estimated, r.jobs])).toEqual([
      ["llama3.2:latest", false, 1],
      ["llama3.2:latest", true, 1],
      ["mistral:latest", false, 1],
    ]);
    expect(report.rows[0]!.output_tokens).toBe(5);
    expect((await client.usage({ by: "tag" })).rows.map((r) => r.group)).toEqual([null, null, "cli"]);
  });

  test("--since 7d --by model prints the table with a total", async () => {
    const { stdout, code } = await foreman(["usage", "--since", "7d", "--by", "model"]);
    expect(code).toBe(0);
    const lines = stdout.trim().split("\n");
    expect(lines[1]).toMatch(/^MODEL\s+JOBS\s+PROMPT TOKENS\s+OUTPUT TOKENS\s+LOAD\s+PROMPT EVAL\s+GENERATION\s+TARGET$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/)[0])).toEqual(["llama3.2:latest", "llama3.2:latest (estimated)", "mistral:latest", "TOTAL"]);
    expect(lines.at(-1)!.split(/\s{2,}/)[1]).toBe("3");
  });

  test("--json prints GET /usage's reply", async () => {
    const { stdout, code } = await foreman(["usage", "--by", "lane", "--json"]);
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as UsageReport;
    expect(report.rows.map((r) => [r.group, r.jobs])).toEqual([
      ["async", 2],
      ["interactive", 1],
    ]);
  });

  test("a --by it does not know is a usage error; a --since foreman cannot read is its 400", async () => {
    const by = await foreman(["usage", "--by", "planet"]);
    expect(by.code).toBe(2);
    expect(by.stderr).toContain("--by: expected one of model, endpoint, lane, client, tag");
    const since = await foreman(["usage", "--since", "last tuesday"]);
    expect(since.code).toBe(3);
    expect(since.stderr).toContain("since");
  });

  test("the table, pure: nothing to show, and the units of time", () => {
    expect(usageTable({ by: "model", since: "a", until: "b", rows: [] })).toBe("no finished work from a to b\n");
    expect([850, 12_500, 250_000, 112_320_000].map(spent)).toEqual(["850ms", "12.5s", "4m10s", "31.2h"]);
  });
});
