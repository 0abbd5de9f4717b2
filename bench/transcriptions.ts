// Transcription benchmark: concurrent multipart uploads to /v1/audio/transcriptions, which
// foreman queues with each body spooled to disk (ADR 0031) — direct to the simulator, then
// through foreman in its own process, whose resident memory must not grow with the bodies:
// they wait on disk, one at a time goes to the target.
// Run: bun bench/transcriptions.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startSimulator } from "../src/sim/index.ts";
import { listeningUrl, tempDir } from "../test/harness.ts";
import { fmt, machine, writeSection } from "./report.ts";

const UPLOADS = 8;
/** Each upload's audio: under the default FOREMAN_MAX_BODY_BYTES (64 MiB) with the form around it. */
const SIZE = 48 << 20;

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
}

const audio = new Blob([new Uint8Array(SIZE).map((_, i) => (i * 2654435761) >>> 24)]);

async function transcribe(base: string): Promise<string> {
  const form = new FormData();
  form.append("model", "llama3.2");
  form.append("file", audio, "speech.wav");
  const res = await fetch(`${base}/v1/audio/transcriptions`, { method: "POST", body: form });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${res.status}: ${text}`);
  return text;
}

/** UPLOADS at once to `base`; every reply must be the direct one. */
async function run(base: string, expected: string | null, pid?: number): Promise<{ seconds: number; peakMiB: number; text: string }> {
  let peakMiB = pid ? rssMiB(pid) : NaN;
  const sampler = setInterval(() => pid && (peakMiB = Math.max(peakMiB, rssMiB(pid))), 50);
  const started = performance.now();
  const texts = await Promise.all(Array.from({ length: UPLOADS }, () => transcribe(base)));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  if (new Set(texts).size !== 1 || (expected !== null && texts[0] !== expected)) throw new Error(`replies differ: ${[...new Set(texts)].join(" | ")}`);
  return { seconds, peakMiB, text: texts[0]! };
}

const sim = await startSimulator({ tokenDelayMs: 1, loadMs: 5 });
const direct = await run(sim.url, null);

const dir = tempDir();
const foreman = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "main.ts"), "serve", "--target", sim.url, "--port", "0", "--host", "127.0.0.1", "--db", join(dir.path, "foreman.db")], { stdout: "ignore", stderr: "pipe" });
const url = await listeningUrl(foreman.stderr);
await fetch(`${url}/api/version`); // one request served before the baseline is read
const idleMiB = rssMiB(foreman.pid);
const through = await run(url, direct.text, foreman.pid);
foreman.kill();
await foreman.exited;
dir.remove();
await sim.stop();

const mib = (UPLOADS * SIZE) / 2 ** 20;
await writeSection(
  "Transcriptions",
  `Command: \`bun bench/transcriptions.ts\` (${machine()}). ${UPLOADS} concurrent \`POST /v1/audio/transcriptions\` uploads of ${SIZE / 2 ** 20} MiB of audio each (multipart, from \`fetch\` with a FormData body) over loopback, to the simulator (which reads each form whole, as Ollama does); every reply the same as directly. foreman runs in its own process; its resident memory is read from \`/proc\` every 50 ms.

| path | uploads | time | foreman's peak RSS (idle: ${fmt(idleMiB, 0)} MiB) |
|---|---|---|---|
| direct to the target | ${UPLOADS} × ${SIZE / 2 ** 20} MiB | ${fmt(direct.seconds)} s | — |
| through foreman (queued, spooled) | ${UPLOADS} × ${SIZE / 2 ** 20} MiB | ${fmt(through.seconds)} s | **${fmt(through.peakMiB, 0)} MiB** |

The uploads wait for their turn on disk beside the database, not in memory (ADR 0031): ${fmt(mib, 0)} MiB of bodies may move foreman's peak by buffers and garbage-collector slack, never by the bodies themselves. Through foreman they run one at a time (the target never sees two), so the time is the direct time plus the spooling.`,
);
