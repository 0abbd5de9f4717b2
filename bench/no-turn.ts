// Requests that need no turn on the target (ADR 0019): how long an unload (what `ollama stop`
// and Open WebUI send) and a request for an unknown model take while a short stream is
// running, direct to the simulator vs through foreman. Before ADR 0019 both waited in
// foreman's queue behind the stream. Run: bun bench/no-turn.ts
import { startSimulator } from "../src/sim/index.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const ROUNDS = 20;
const STREAM_TOKENS = 64;
const TOKEN_DELAY_MS = 20;

const stream = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "go on" }], options: { num_predict: STREAM_TOKENS } });
const unload = JSON.stringify({ model: "llama3.2", keep_alive: 0, stream: false });
const unknown = JSON.stringify({ model: "ghost", messages: [{ role: "user", content: "hi" }], stream: false });

/** Times `body` sent to `path` while a stream started just before it is running; the stream is read to its end. */
async function behindAStream(base: string, path: string, body: string, expected: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const res = await fetch(`${base}/api/chat`, { method: "POST", body: stream });
    const reader = res.body!.getReader();
    await reader.read(); // the stream has started: the target (and foreman's worker) is busy with it
    const draining = (async () => {
      while (!(await reader.read()).done);
    })();
    const t = performance.now();
    const reply = await fetch(`${base}${path}`, { method: "POST", body });
    await reply.arrayBuffer();
    out.push(performance.now() - t);
    if (reply.status !== expected) throw new Error(`${path} answered ${reply.status}, expected ${expected}`);
    await draining;
  }
  return out.sort((a, b) => a - b);
}

const sim = await startSimulator({ tokenDelayMs: TOKEN_DELAY_MS, loadMs: 0 });
const foreman = await startTestForeman({ target: sim.url });
const rows: string[] = [];
for (const [what, path, body, status] of [
  ["unload (`keep_alive: 0`, no prompt) on /api/generate", "/api/generate", unload, 200],
  ["unknown model on /api/chat (404)", "/api/chat", unknown, 404],
] as const) {
  const direct = await behindAStream(sim.url, path, body, status);
  const via = await behindAStream(foreman.url, path, body, status);
  rows.push(`| ${what} | ${fmt(percentile(direct, 50), 1)} ms | ${fmt(percentile(direct, 95), 1)} ms | ${fmt(percentile(via, 50), 1)} ms | ${fmt(percentile(via, 95), 1)} ms |`);
}
await foreman.stop();
await sim.stop();

await writeSection(
  "Requests that need no turn",
  `Command: \`bun bench/no-turn.ts\` (${machine()}). Each request is sent right after a streamed /api/chat of ${STREAM_TOKENS} tokens, ${TOKEN_DELAY_MS} ms apart, has started (${ROUNDS} rounds); the stream is read to its end meanwhile.

| request | direct p50 | direct p95 | through foreman p50 | through foreman p95 |
|---|---|---|---|---|
${rows.join("\n")}

Before ADR 0019 both waited in foreman's queue until the stream had ended: the same benchmark on the code before (commit c3a7a1a) measured 1283 ms p50 for the unload and 1285 ms p50 for the unknown model, against 0.4 ms direct — the length of the stream here, minutes on real hardware. An unload now goes straight to the target; an unknown model is answered after a fresh /api/tags.`,
);
