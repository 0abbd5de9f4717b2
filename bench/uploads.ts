// Upload benchmark: 16 concurrent blob uploads of 64 MiB, then of 1 GiB, through foreman to a
// target that hashes and discards them (test/passthrough/blob-sink.ts, until the simulator has
// /api/blobs). foreman runs in its own process, so its resident memory is its own: bodies of
// direct routes stream on, so it must stay flat however large the uploads are. Then batch uploads
// to a fresh foreman: a 200 MB file to POST /v1/files and a message batch as large to POST
// /v1/messages/batches, each streamed to disk as it arrives (ADR 0039, 0042), against a 1 MB
// file as the baseline: the bound is 50 MiB of RSS over idle for the 200 MB file.
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

// ---- batch uploads: streamed to files/ beside the database, never held whole ----

const BATCH_LINES = 50_000;
/** Bytes per line (newline included): 50,000 of them is 205 MB, just under the 200 MiB limit. */
const LINE_BYTES = 4_100;
const BOUNDARY = "bench-batch";

const padded = (head: string, tail: string, width: number) => `${head}${"x".repeat(width - head.length - tail.length)}${tail}`;
const fileLine = (i: number) => padded(`{"custom_id":"l-${i}","method":"POST","url":"/v1/embeddings","body":{"model":"nomic-embed-text","input":"`, `"}}\n`, LINE_BYTES);
const messageRequest = (i: number) => padded(`{"custom_id":"r-${i}","params":{"model":"llama3.2","max_tokens":8,"messages":[{"role":"user","content":"`, `"}]}}`, LINE_BYTES - 1);

/** A body made of `head`, `lines` items joined by `separator`, and `tail`, produced about 1 MiB at a time (never whole). */
function generated(head: string, lines: number, item: (i: number) => string, separator: string, tail: string): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i > lines) return c.close();
      let text = i === 0 ? head : "";
      while (i < lines && text.length < CHUNK) text += (i > 0 ? separator : "") + item(i++);
      if (i === lines) {
        text += tail;
        i++;
      }
      c.enqueue(encoder.encode(text));
    },
  });
}

const fileBody = (lines: number) =>
  generated(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n`, lines, fileLine, "", `\r\n--${BOUNDARY}--\r\n`);
const messageBody = (requests: number) => generated(`{"requests":[`, requests, messageRequest, ",", `]}`);

interface BatchRun {
  seconds: number;
  mb: number;
  beforeMiB: number;
  peakMiB: number;
}

/** One upload to `route`, sampling `pid`'s memory every 50 ms from just before it until its reply. */
async function batchUpload(base: string, pid: number, route: string, contentType: string, body: ReadableStream<Uint8Array>): Promise<BatchRun> {
  Bun.gc(true);
  await Bun.sleep(200);
  const beforeMiB = rssMiB(pid);
  let peakMiB = beforeMiB;
  const sampler = setInterval(() => (peakMiB = Math.max(peakMiB, rssMiB(pid))), 50);
  const started = performance.now();
  const res = await fetch(`${base}${route}`, { method: "POST", headers: { "content-type": contentType }, body });
  const reply = (await res.json()) as { bytes?: number; request_counts?: { processing: number } };
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakMiB = Math.max(peakMiB, rssMiB(pid));
  if (res.status !== 200) throw new Error(`${route}: ${res.status} ${JSON.stringify(reply)}`);
  const mb = reply.bytes !== undefined ? reply.bytes / 1e6 : (reply.request_counts!.processing * LINE_BYTES) / 1e6;
  return { seconds, mb, beforeMiB, peakMiB };
}

const batchDir = tempDir();
const batchForeman = Bun.spawn([process.execPath, join(import.meta.dir, "..", "src", "main.ts"), "serve", "--target", "http://127.0.0.1:9", "--port", "0", "--host", "127.0.0.1", "--db", join(batchDir.path, "foreman.db")], { stdout: "ignore", stderr: "pipe" });
const batchUrl = await listeningUrl(batchForeman.stderr);
await fetch(`${batchUrl}/healthz`);
const batchIdleMiB = rssMiB(batchForeman.pid);
const multipartType = `multipart/form-data; boundary=${BOUNDARY}`;
const baseline = await batchUpload(batchUrl, batchForeman.pid, "/v1/files", multipartType, fileBody(250));
const bigFile = await batchUpload(batchUrl, batchForeman.pid, "/v1/files", multipartType, fileBody(BATCH_LINES));
const bigMessages = await batchUpload(batchUrl, batchForeman.pid, "/v1/messages/batches", "application/json", messageBody(BATCH_LINES));
batchForeman.kill();
await batchForeman.exited;
batchDir.remove();

const batchRow = (what: string, r: BatchRun) => `| ${what} | ${fmt(r.mb)} MB | ${fmt(r.seconds, 2)} s | ${fmt(r.mb / r.seconds, 0)} MB/s | ${fmt(r.beforeMiB, 0)} MiB | ${fmt(r.peakMiB, 0)} MiB | **${fmt(r.peakMiB - r.beforeMiB, 0)} MiB** |`;

await writeSection(
  "Batch uploads",
  `Command: \`bun bench/uploads.ts\` (${machine()}). One upload at a time to a fresh foreman in its own process, over loopback, each body produced 1 MiB at a time by the client: a 1 MB batch file (the baseline), a 200 MB one (${BATCH_LINES.toLocaleString("en")} lines of ${LINE_BYTES.toLocaleString("en")} bytes) to \`POST /v1/files\`, and a message batch of the same ${BATCH_LINES.toLocaleString("en")} requests and size to \`POST /v1/messages/batches\` (each request parsed, checked and written as it arrives). foreman's resident memory is read from \`/proc\` every 50 ms from just before each upload until its reply (the file fsync'd and recorded).

| upload | size | time | throughput | RSS before | peak RSS | rise |
|---|---|---|---|---|---|---|
${batchRow("batch file, baseline", baseline)}
${batchRow("batch file", bigFile)}
${batchRow("message batch", bigMessages)}

Target (issue 19): a 200 MB file raises foreman's RSS by at most 50 MiB — ${bigFile.peakMiB - bigFile.beforeMiB <= 50 ? "met" : "**missed**"} (${fmt(bigFile.peakMiB - bigFile.beforeMiB, 0)} MiB over the memory before it, against ${fmt(baseline.peakMiB - baseline.beforeMiB, 0)} MiB for the 1 MB baseline; idle: ${fmt(batchIdleMiB, 0)} MiB, so ${fmt(bigFile.peakMiB - batchIdleMiB, 0)} MiB over idle). The message batch has no bound of its own beyond not holding its body (Anthropic's "do not hold 256 MB twice": it is not held once); its rise is each request parsed, checked and re-serialised, garbage the collector takes back later. Uploads stream to \`files/\` as they arrive (ADR 0039) and only a pause longer than \`FOREMAN_BODY_TIMEOUT_MS\` ends one (ADR 0042), so neither memory nor the time allowed depends on the size.`,
);
