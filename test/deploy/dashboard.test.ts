// deploy/grafana/foreman.json: generated from scripts/gen-dashboard.ts's table, shaped as Grafana
// imports it (Grafana itself is not installable here), every query filtered by the instance
// variable and accepted by promtool's PromQL parser. That every metric it reads exists in a
// real scrape is checked in observability.test.ts.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DASHBOARD_FILE, ROWS, renderDashboard } from "../../scripts/gen-dashboard.ts";
import { dashboardFile, metricNames, promtool, runPromtool, selectors, substituteGrafanaVariables } from "./promql.ts";

const dashboard = await dashboardFile();
const panels = dashboard.panels.filter((p) => p.type !== "row");
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

describe("the Grafana dashboard", () => {
  test("is what scripts/gen-dashboard.ts writes (run `npm run dashboard` after changing its table)", async () => {
    expect(await Bun.file(DASHBOARD_FILE).text()).toBe(renderDashboard());
  });

  test("has a title, a stable uid, a data source variable and an instance variable", () => {
    expect(dashboard).toMatchObject({ title: "foreman", uid: "foreman" });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual([
      ["datasource", "datasource"],
      ["instance", "query"],
    ]);
  });

  test("one row per part, the panels the issue asks for, unique ids, on a 24-column grid without overlaps", () => {
    const rows = dashboard.panels.filter((p) => p.type === "row").map((p) => p.title);
    expect(rows).toEqual(ROWS.map((r) => r.title));
    const titles = panels.map((p) => p.title);
    for (const wanted of ["Queued by model", "Oldest wait by model", "Worker state", "Loads, swaps and reloads per hour", "Preemptions per hour", "Generation discarded by preemptions", "Wake-on-LAN packets per hour", "Time to first token by model", "Tokens per second by model", "Finished per minute", "Backlog", "Attempts per minute", "Target", "Requests by status class"]) expect(titles).toContain(wanted);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dashboard.panels) {
      const { x, y, w, h } = p.gridPos;
      expect(x >= 0 && w > 0 && x + w <= 24 && h > 0).toBe(true);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        const cell = `${i},${j}`;
        expect(cells.has(cell), `panel "${p.title}" overlaps another at ${cell}`).toBe(false);
        cells.add(cell);
      }
    }
  });

  test("every panel is a core panel type reading Prometheus through the data source variable, with a unit and unique refIds", () => {
    for (const p of panels) {
      expect(["stat", "timeseries"]).toContain(p.type);
      expect(p.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      expect(p.fieldConfig?.defaults.unit).toBeString();
      expect(p.targets?.length).toBeGreaterThan(0);
      const refIds = p.targets!.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
      for (const t of p.targets!) {
        expect(t.datasource).toEqual(p.datasource!);
        expect(t.expr.trim()).not.toBe("");
      }
    }
  });

  test("every metric a query reads is filtered to the chosen instances", () => {
    for (const { panel, expr } of queries) {
      const filtered = new Set(selectors(expr).filter((s) => s.labels.includes("instance")).map((s) => s.metric));
      for (const name of metricNames(expr)) expect(filtered.has(name), `${panel}: ${name} is not filtered by instance in ${expr}`).toBe(true);
      expect(expr).toContain('instance=~"$instance"');
    }
  });

  test.skipIf(!promtool && !process.env.CI)("promtool parses every query (as a recording rule each, Grafana's variables filled in)", async () => {
    expect(promtool, "promtool is expected in CI (.ci/run installs Debian's prometheus package)").toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), "foreman-dashboard-"));
    try {
      const rules = queries.map(({ expr }, i) => ({ record: `dashboard:query_${i}`, expr: substituteGrafanaVariables(expr) }));
      writeFileSync(join(dir, "panels.yml"), JSON.stringify({ groups: [{ name: "dashboard", rules }] }));
      const result = await runPromtool(["check", "rules", join(dir, "panels.yml")]);
      expect(result).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${queries.length} rules found`) });
      // and a broken query is caught by the same check
      writeFileSync(join(dir, "broken.yml"), JSON.stringify({ groups: [{ name: "dashboard", rules: [{ record: "dashboard:broken", expr: "sum by (model (foreman_jobs)" }] }] }));
      expect((await runPromtool(["check", "rules", join(dir, "broken.yml")])).code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
