// Logs are one JSON object per line, carry request and job ids, and never a secret.
import { expect, test } from "bun:test";
import { createLogger } from "../../src/ops/log.ts";
import { startStack, waitFor } from "../harness.ts";

test("JSON lines with request and job ids; tokens, webhook secrets and Authorization never appear", async () => {
  const lines: string[] = [];
  const secrets = { token: "client-tok-123", targetToken: "target-tok-456", webhookSecret: "whsec_" + Buffer.from("super secret webhook key").toString("base64") };
  const stack = await startStack({ sim: { tokenDelayMs: 0, loadMs: 0 }, foreman: { logLevel: "debug", ...secrets }, start: { log: createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) }) } });
  const { foreman } = stack;
  try {
    const auth = { authorization: `Bearer ${secrets.token}` };
    const job = (await (await fetch(`${foreman.url}/jobs`, { method: "POST", headers: { ...auth, prefer: "wait=30", "x-request-id": "trace-me" }, body: JSON.stringify({ request: { model: "llama3.2", messages: [] }, webhook: "http://127.0.0.1:9/hook" }) })).json()) as { id: string };
    await (await fetch(`${foreman.url}/api/chat`, { method: "POST", headers: { ...auth, "x-request-id": "chat-trace" }, body: JSON.stringify({ model: "llama3.2", messages: [], stream: false }) })).text();
    await fetch(`${foreman.url}/status`, { headers: { authorization: "Bearer wrong-guess-789" } });
    await waitFor(() => lines.some((l) => l.includes("webhook delivery failed")), { what: 'the log line "webhook delivery failed"' });
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.filter((p) => typeof p.time !== "string" || typeof p.level !== "string" || typeof p.msg !== "string")).toEqual([]);
    expect(parsed).toContainEqual(expect.objectContaining({ msg: "request", request_id: "trace-me", route: "/jobs" }));
    // the worker's line names the request that made the work: the job's POST, a passthrough request itself
    expect(parsed).toContainEqual(expect.objectContaining({ msg: "job ran", job_id: job.id, request_id: "trace-me", lane: "async" }));
    await waitFor(() => lines.some((l) => l.includes('"chat-trace"') && l.includes('"job ran"')), { what: 'the passthrough request\'s "job ran" line' });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ msg: "job ran", request_id: "chat-trace", lane: "interactive" }));
    // with what the work cost: the counts are not mistaken for secrets by their names
    const usage = { prompt_tokens: expect.any(Number), output_tokens: expect.any(Number), load_ms: expect.any(Number), prompt_eval_ms: expect.any(Number), generation_ms: expect.any(Number), target_ms: expect.any(Number), estimated: false };
    const ran = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((p) => p.msg === "job ran");
    expect(ran).toContainEqual(expect.objectContaining({ request_id: "chat-trace", usage }));
    expect(ran).toContainEqual(expect.objectContaining({ job_id: job.id, usage }));
    expect(parsed).toContainEqual(expect.objectContaining({ msg: "request", status: 401 }));
    const all = lines.join("\n");
    for (const secret of [...Object.values(secrets), "wrong-guess-789", Buffer.from("super secret webhook key").toString("base64")]) expect(all).not.toContain(secret);
  } finally {
    await stack.stop();
  }
});

test("pretty format is one readable line per event, with the same redaction", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "pretty", write: (l) => lines.push(l) });
  log.info("hello", { job_id: "J1", authorization: "Bearer x", apiKey: "k" });
  log.debug("hidden");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/INFO +hello job_id=J1 authorization=\[redacted\] apiKey=\[redacted\]$/);
});
