// Bodies of direct routes stream on to the target unbuffered: a blob larger than
// FOREMAN_MAX_BODY_BYTES arrives intact (the receiving end checks its digest), a client that
// aborts mid-upload aborts the upstream request, and a stalled upload is cut at the deadline.
import { afterEach, describe, expect, test } from "bun:test";
import type { Config } from "../../src/config.ts";
import { startTestForeman, waitFor, type TestForeman } from "../harness.ts";
import { startBlobSink, type BlobSink } from "./blob-sink.ts";
import { rawExchange } from "./raw-http.ts";

let sink: BlobSink | undefined;
let foreman: TestForeman | undefined;
afterEach(async () => {
  await foreman?.stop();
  sink?.stop();
  foreman = sink = undefined;
});

async function start(overrides: Partial<Config> = {}) {
  sink = startBlobSink();
  foreman = await startTestForeman({ target: sink.url, maxBodyBytes: 64 * 1024, pollIntervalMs: 3_600_000, ...overrides });
  return { sink, foreman };
}

/** Deterministic bytes and their Ollama blob digest. */
function blob(size: number): { bytes: Uint8Array; digest: string } {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 2654435761) >>> 24;
  return { bytes, digest: `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}` };
}

describe("uploads through direct routes", () => {
  test("a blob far larger than FOREMAN_MAX_BODY_BYTES reaches the target intact, with its length", async () => {
    const { sink, foreman } = await start();
    const { bytes, digest } = blob(8 << 20);
    const res = await fetch(`${foreman.url}/api/blobs/${digest}`, { method: "POST", body: bytes });
    expect(res.status).toBe(201);
    expect(sink.uploads).toEqual([{ digest, bytes: bytes.byteLength, contentLength: String(bytes.byteLength), outcome: "stored" }]);
  });

  test("a chunked upload of unknown length streams on too, and a wrong digest is the target's 400", async () => {
    const { sink, foreman } = await start();
    const { bytes } = blob(1 << 20);
    const wrong = `sha256:${"0".repeat(64)}`;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < bytes.byteLength; at += 100_000) c.enqueue(bytes.slice(at, at + 100_000));
        c.close();
      },
    });
    const res = await fetch(`${foreman.url}/api/blobs/${wrong}`, { method: "POST", body });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain("digest mismatch");
    expect(sink.uploads).toEqual([{ digest: wrong, bytes: bytes.byteLength, contentLength: null, outcome: "mismatch" }]);
  });

  test("a client that aborts mid-upload aborts the upstream request", async () => {
    const { sink, foreman } = await start();
    const { bytes, digest } = blob(4 << 20);
    await rawExchange(foreman.port, (socket) => {
      socket.write(`POST /api/blobs/${digest} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${bytes.byteLength}\r\n\r\n`);
      socket.write(bytes.subarray(0, 1 << 20), () => setTimeout(() => socket.destroy(), 50));
    });
    const upload = await waitFor(() => sink.uploads[0], { what: "the upload to reach the target" });
    await waitFor(() => upload.outcome !== "receiving", { what: "the target's side of the upload to end" });
    expect(upload.outcome).toBe("aborted");
    expect(upload.bytes).toBeLessThan(bytes.byteLength);
    await waitFor(() => foreman.services.telemetry.registry.render().includes('foreman_http_requests_total{route="/api/*",method="POST",status="499"} 1'), { what: "foreman to count the upload as the client's 499" });
  });

  test("an upload that stalls past the body deadline is a 408, and the upstream request is aborted", async () => {
    const { sink, foreman } = await start({ bodyTimeoutMs: 300 });
    const { bytes, digest } = blob(1 << 20);
    const reply = await rawExchange(foreman.port, (socket) => {
      socket.write(`POST /api/blobs/${digest} HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${bytes.byteLength}\r\n\r\n`);
      // past FOREMAN_MAX_BODY_BYTES in good time, then nothing more
      socket.write(bytes.subarray(0, 256 * 1024));
    });
    expect(reply.status).toBe(408);
    expect(reply.closed).toBe(true);
    expect(JSON.parse(reply.body)).toEqual({ error: expect.stringContaining("stalled for 300 ms") });
    const upload = await waitFor(() => sink.uploads[0], { what: "the upload to reach the target" });
    await waitFor(() => upload.outcome === "aborted" && upload.bytes > 0, { what: "the target's side to end, aborted" });
  });
});
