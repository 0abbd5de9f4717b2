// Upload benchmark: 16 concurrent blob uploads of 64 MiB, then of 1 GiB, through foreman to a
// target that hashes and discards them (test/passthrough/blob-sink.ts, until the simulator has
// /api/blobs). foreman runs in its own process, so its resident memory is its own: bodies of
// direct routes stream on, so it must stay flat however large the uploads are.
// Run: bun bench/uploads.ts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { listeningUrl, tempDir } from "../test/harness.ts";
import { startBlobSink } from "../test/passthrough/blob-sink.ts";
import { fmt, machine, writeSection } from "./report.ts";

const UPLOADS = 16;
const SIZE = 1 << 30;
/** A smaller run beside it: memory that does not depend on the upload size is the same for both. */
const SMALL = 64 << 20;
const CHUNK = 1 << 20;

/** Resident memory of a process, from /proc (Linux). */
function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"));
  return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
}

// every upload sends the same bytes: one 1 MiB chunk, size / CHUNK times
const chunk = new Uint8Array(CHUNK);
for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 2654435761) >>> 24;
function digestOf(size: number): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (let sent = 0; sent < size; sent += CHUNK) hasher.update(chunk);
  return `sha256:${hasher.digest("hex")}`;
}

function upload(base: string, size: number, digest: string): Promise<number> {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent >= size) return c.close();
      c.enqueue(chunk);
      sent += CHUNK;
    },
  });
  return fetch(`${base}/api/blobs/${digest}`, { method: "POST", body, headers: { "content-length": String(size) } }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });
}

interface Run {
  seconds: number;
  peakMiB: number;
}

/** UPLOADS concurrent uploads of `size` to `base`, sampling `pid`'s memory (when given) as they go; each must arrive intact. */
async function run(base: string, size: number, pid?: number): Promise<Run> {
  const digest = digestOf(size);
  sink.uploads.length = 0;
  let peakMiB = pid ? rssMiB(pid) : NaN;
  const sampler = setInterval(() => pid && (peakMiB = Math.max(peakMiB, rssMiB(pid))), 100);
  const started = performance.now();
  const statuses = await Promise.all(Array.from({ length: UPLOADS }, () => upload(base, size, digest)));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const intact = sink.uploads.filter((u) => u.outcome === "stored" && u.bytes === size).length;
  if (statuses.some((s) => s !== 201) || intact !== UPLOADS) throw new Error(`${intact} of ${UPLOADS} uploads arrived intact; statuses ${statuses.join(",")}`);
  return { seconds, peakMiB };
}

const sink = startBlobSink();
const direct = await run(sink.url, SIZE);

const dir = tempDir();
const foreman = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "main.ts"), "serve", "--target", sink.url, "--port", "0", "--host", "127.0.0.1", "--db", join(dir.path, "foreman.db")], { stdout: "ignore", stderr: "pipe" });
const url = await listeningUrl(foreman.stderr);
await fetch(`${url}/api/version`); // one request served before the baseline is read
const idleMiB = rssMiB(foreman.pid);
const small = await run(url, SMALL, foreman.pid);
const through = await run(url, SIZE, foreman.pid);
foreman.kill();
await foreman.exited;
dir.remove();
sink.stop();

const gib = (size: number) => (UPLOADS * size) / 2 ** 30;

await writeSection(
  "Uploads",
  `Command: \`bun bench/uploads.ts\` (${machine()}). ${UPLOADS} concurrent uploads to \`POST /api/blobs/:digest\` over loopback, 64 MiB then 1 GiB each, to a target that hashes each body as it arrives and discards it (\`test/passthrough/blob-sink.ts\`); every upload arrived intact (digest checked at the target). foreman runs in its own process; its resident memory is read from \`/proc\` every 100 ms.

| path | uploads | time | throughput | foreman's peak RSS (idle: ${fmt(idleMiB, 0)} MiB) |
|---|---|---|---|---|
| direct to the target | ${UPLOADS} × 1 GiB | ${fmt(direct.seconds)} s | ${fmt(gib(SIZE) / direct.seconds, 2)} GiB/s | — |
| through foreman | ${UPLOADS} × 64 MiB | ${fmt(small.seconds)} s | ${fmt(gib(SMALL) / small.seconds, 2)} GiB/s | ${fmt(small.peakMiB, 0)} MiB |
| through foreman | ${UPLOADS} × 1 GiB | ${fmt(through.seconds)} s | ${fmt(gib(SIZE) / through.seconds, 2)} GiB/s | **${fmt(through.peakMiB, 0)} MiB** |

Bodies of direct routes stream to the target as they arrive (ADR 0018); before, each was read whole first: 16 concurrent 60 MB uploads took foreman from 71 MiB to 1.5 GiB, and uploads over \`FOREMAN_MAX_BODY_BYTES\` (64 MiB) were refused. Target: memory bounded by the number of uploads, not their size — 16 times the data may move the peak by garbage-collector slack (tens of MiB), never by the bodies themselves.`,
);
