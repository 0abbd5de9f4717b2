// A caller chooses the model names it sends; /metrics must not grow a series for each. Model
// labels are the names the target lists (the poller's last /api/tags); any other is `other`.
import { afterAll, beforeAll, expect, test } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { OTHER_MODEL } from "../../src/http/telemetry.ts";
import { seededRandom, startStack, waitFor, type Stack } from "../harness.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0, responseTokens: 2 }, foreman: { pollIntervalMs: 50, pollMaxBackoffMs: 200 } });
  await waitFor(() => stack.foreman.services.poller.tags, { what: "the poller's first /api/tags" });
});
afterAll(() => stack.stop());

/** Every value the `model` label takes in the scrape. */
async function modelLabels(): Promise<Set<string>> {
  const families = parsePrometheusTextFormat(await (await fetch(`${stack.url}/metrics`)).text()) as { metrics: { labels?: Record<string, string> }[] }[];
  return new Set(families.flatMap((f) => f.metrics.map((m) => m.labels?.model)).filter((m): m is string => m !== undefined));
}

test("many bogus model names, passthrough and jobs, all count as `other`; listed models keep their names", async () => {
  const random = seededRandom("metric-labels");
  const bogus = Array.from({ length: 150 }, (_, i) => `nope-${i}-${Math.floor(random() * 1e9).toString(36)}`);
  const messages = [{ role: "user", content: "hi" }];
  await Promise.all(bogus.slice(0, 100).map((model) => fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ model, messages, stream: false }) }).then((r) => r.arrayBuffer())));
  // jobs wait while the target sleeps: the gauge counts them as `other` too
  await stack.sim.setFaults({ asleep: true });
  await waitFor(() => stack.foreman.services.poller.up === false, { what: "the poller to see the target asleep" });
  await Promise.all(bogus.slice(100).map((model) => fetch(`${stack.url}/jobs`, { method: "POST", body: JSON.stringify({ request: { model, messages } }) }).then((r) => r.arrayBuffer())));
  const scrape = await (await fetch(`${stack.url}/metrics`)).text();
  expect(scrape).toContain(`foreman_jobs{state="queued",model="${OTHER_MODEL}"} 50\n`);
  await stack.sim.setFaults({ asleep: false });
  const real = await fetch(`${stack.url}/api/chat`, { method: "POST", body: JSON.stringify({ model: "llama3.2", messages, stream: false }) });
  expect(real.status).toBe(200);
  await waitFor(() => stack.foreman.services.queue.activeCounts().length === 0, { what: "every job and request to end" });

  const labels = await modelLabels();
  expect([...labels].filter((m) => m.startsWith("nope-"))).toEqual([]);
  expect(labels).toContain(OTHER_MODEL);
  expect(labels).toContain("llama3.2:latest");
  const listed = (JSON.parse(stack.foreman.services.poller.tags!.text) as { models: { name: string }[] }).models.length;
  expect(labels.size).toBeLessThanOrEqual(listed + 1);
});
