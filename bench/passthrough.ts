// Passthrough benchmark, in one run against the same simulator on loopback: the latency
// foreman adds to a non-streamed request, the delay it adds to each streamed chunk, and
// GET /api/tags throughput through foreman vs direct vs nginx proxy_pass (when nginx is
// installed). Run: bun bench/passthrough.ts
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator } from "../src/sim/index.ts";
import { startTestForeman } from "../test/harness.ts";
import { fmt, machine, percentile, writeSection } from "./report.ts";

const SEQUENTIAL = 2000;
const STREAMS = 40;
const STREAM_TOKENS = 25;
const TAGS = 20_000;
const TAGS_CLIENTS = 32;
const chat = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }], stream: false });

async function latencies(base: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t = performance.now();
    await (await fetch(`${base}/api/chat`, { method: "POST", body: chat })).arrayBuffer();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

/** Arrival time of each NDJSON line relative to the target's own timestamp is not comparable across processes; measure gaps. */
async function chunkGaps(base: string): Promise<number[]> {
  const gaps: number[] = [];
  const body = JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "stream" }], options: { num_predict: STREAM_TOKENS } });
  for (let i = 0; i < STREAMS; i++) {
    const res = await fetch(`${base}/api/chat`, { method: "POST", body });
    let last = 0;
    for await (const _ of res.body!) {
      const now = performance.now();
      if (last) gaps.push(now - last);
      last = now;
    }
  }
  return gaps.sort((a, b) => a - b);
}

async function throughput(url: string): Promise<number> {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "load.ts"), url, String(TAGS), String(TAGS_CLIENTS), "GET"], { stdout: "pipe" });
  const r = JSON.parse(await new Response(proc.stdout).text()) as { perSecond: number; statuses: Record<string, number> };
  if ((r.statuses["200"] ?? 0) !== TAGS) throw new Error(`unexpected statuses from ${url}: ${JSON.stringify(r.statuses)}`);
  return r.perSecond;
}

async function withNginx<T>(upstream: string, run: (url: string) => Promise<T>): Promise<T | null> {
  if (Bun.which("nginx") === null) return null;
  const dir = mkdtempSync(join(tmpdir(), "foreman-nginx-"));
  const port = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir};
  upstream target { server ${upstream.replace("http://", "")}; keepalive 64; }
  server { listen 127.0.0.1:${port};
    location / { proxy_pass http://target; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; } } }`,
  );
  const nginx = Bun.spawn(["nginx", "-c", join(dir, "nginx.conf"), "-p", dir], { stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (await fetch(`${url}/api/version`).then((r) => r.ok, () => false)) break;
    await Bun.sleep(50);
  }
  try {
    return await run(url);
  } finally {
    nginx.kill();
    await nginx.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const sim = await startSimulator({ tokenDelayMs: 0, loadMs: 0, responseTokens: 5 });
const foreman = await startTestForeman({ target: sim.url });
await latencies(sim.url); // warm up both paths
await latencies(foreman.url);
const directLat = await latencies(sim.url);
const foremanLat = await latencies(foreman.url);
await foreman.stop();
await sim.stop();

const streamSim = await startSimulator({ tokenDelayMs: 20, loadMs: 0 });
const streamForeman = await startTestForeman({ target: streamSim.url });
const directGaps = await chunkGaps(streamSim.url);
const foremanGaps = await chunkGaps(streamForeman.url);
await streamForeman.stop();
await streamSim.stop();

// the target in its own process, as a real Ollama would be, so foreman and nginx each have theirs
const tagsSimPort = 20000 + Math.floor(Math.random() * 20000);
const tagsSim = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "main.ts"), "sim", "--port", String(tagsSimPort), "--host", "127.0.0.1"], { stdout: "ignore", stderr: "ignore" });
const tagsSimUrl = `http://127.0.0.1:${tagsSimPort}`;
for (let i = 0; i < 100 && !(await fetch(`${tagsSimUrl}/api/version`).then((r) => r.ok, () => false)); i++) await Bun.sleep(50);
const tagsForeman = await startTestForeman({ target: tagsSimUrl });
const tagsDirect = await throughput(`${tagsSimUrl}/api/tags`);
const tagsForemanRate = await throughput(`${tagsForeman.url}/api/tags`);
const tagsNginx = await withNginx(tagsSimUrl, (url) => throughput(`${url}/api/tags`));
await tagsForeman.stop();
tagsSim.kill();
await tagsSim.exited;

const added = (p: number) => percentile(foremanLat, p) - percentile(directLat, p);
const gapAdded = (p: number) => percentile(foremanGaps, p) - percentile(directGaps, p);
await writeSection(
  "Passthrough",
  `Command: \`bun bench/passthrough.ts\` (${machine()}). Client, foreman and simulator share the machine. For throughput the clients (\`bench/load.ts\`), the simulator (\`foreman sim\`) and foreman or nginx each run in their own process.

### Added latency, non-streamed /api/chat (zero-delay target, ${SEQUENTIAL} sequential requests)

| path | p50 | p99 |
|---|---|---|
| direct to the simulator | ${fmt(percentile(directLat, 50), 3)} ms | ${fmt(percentile(directLat, 99), 3)} ms |
| through foreman (queue + worker) | ${fmt(percentile(foremanLat, 50), 3)} ms | ${fmt(percentile(foremanLat, 99), 3)} ms |
| **added by foreman** | **${fmt(added(50), 3)} ms** | ${fmt(added(99), 3)} ms |

Target: ≤ 1 ms added at p50.

### Per-chunk forwarding, streamed /api/chat (${STREAMS} streams × ${STREAM_TOKENS} tokens, 20 ms apart)
Gaps between consecutive chunks as the client sees them; a relay that buffered would bunch them.

| path | p50 gap | p99 gap |
|---|---|---|
| direct | ${fmt(percentile(directGaps, 50), 2)} ms | ${fmt(percentile(directGaps, 99), 2)} ms |
| through foreman | ${fmt(percentile(foremanGaps, 50), 2)} ms | ${fmt(percentile(foremanGaps, 99), 2)} ms |
| **added by foreman** | ${fmt(gapAdded(50), 2)} ms | **${fmt(gapAdded(99), 2)} ms** |

Target: ≤ 1 ms added per chunk at p99.

### GET /api/tags throughput (${TAGS} requests, ${TAGS_CLIENTS} concurrent clients)

| path | requests/s |
|---|---|
| direct to the simulator | ${fmt(tagsDirect, 0)} |
| through foreman | ${fmt(tagsForemanRate, 0)} |
| through nginx \`proxy_pass\` (1 worker, keepalive) | ${tagsNginx === null ? "skipped: nginx is not installed (apt-get install nginx)" : fmt(tagsNginx, 0)} |

Target: foreman at least nginx's rate.`,
);
