// deploy/prometheus/alerts.yml: promtool accepts the rules, their unit tests
// (alerts.test.yml) pass, and every alert has unit tests that show it firing and silent. That
// every metric the rules read exists in a real scrape is checked in observability.test.ts.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { alertRules, promtool, root, runPromtool } from "./promql.ts";

const dir = join(root, "deploy", "prometheus");
const needsPromtool = test.skipIf(!promtool && !process.env.CI);
const expectPromtool = () => expect(promtool, "promtool is expected in CI (.ci/run installs Debian's prometheus package)").toBeTruthy();

describe("the alert rules", () => {
  test("cover what the issue asks for, each with a severity, a summary and a description", async () => {
    const rules = await alertRules();
    expect(rules.map((r) => r.alert)).toEqual([
      "ForemanDown",
      "ForemanTargetDown",
      "ForemanQueueStalled",
      "ForemanJobFailureRatio",
      "ForemanWebhookDeliveriesFailing",
      "ForemanWebhookDeliveriesGivenUp",
      "ForemanWebhookBacklogGrowing",
      "ForemanServerErrors",
      "ForemanDatabaseErrors",
      "ForemanBatchLinesExpired",
    ]);
    for (const r of rules) {
      expect(["warning", "critical"]).toContain(r.labels?.severity ?? "");
      expect(r.annotations?.summary).toBeString();
      expect(r.annotations?.description).toBeString();
    }
  });

  test("every alert has unit tests in alerts.test.yml where it fires and where it stays silent", async () => {
    const tests = Bun.YAML.parse(await Bun.file(join(dir, "alerts.test.yml")).text()) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of await alertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${alert} is never shown firing`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${alert} is never shown silent`).toBe(true);
    }
  });

  needsPromtool("promtool check rules accepts them", async () => {
    expectPromtool();
    const result = await runPromtool(["check", "rules", "alerts.yml"], dir);
    expect(result.output).toContain("SUCCESS: 10 rules found");
    expect(result.code).toBe(0);
  });

  needsPromtool("promtool test rules passes alerts.test.yml", async () => {
    expectPromtool();
    const result = await runPromtool(["test", "rules", "alerts.test.yml"], dir);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });
});
