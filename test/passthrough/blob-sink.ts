// A minimal target for uploads, until the simulator has Ollama's /api/blobs/:digest: it answers
// liveness and metadata as an empty Ollama does, and takes `POST /api/blobs/sha256:<hex>` as
// Ollama does — the body hashed as it streams, kept nowhere, 201 when the digest matches and
// 400 when it does not. Each upload's outcome is recorded, an aborted one included.
export interface Upload {
  digest: string;
  bytes: number;
  contentLength: string | null;
  outcome: "receiving" | "stored" | "mismatch" | "aborted";
}

export interface BlobSink {
  readonly url: string;
  readonly uploads: Upload[];
  stop(): void;
}

export function startBlobSink(): BlobSink {
  const uploads: Upload[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/") return new Response("Ollama is running");
      if (path === "/api/tags" || path === "/api/ps") return Response.json({ models: [] });
      const blob = /^\/api\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path);
      if (!blob || req.method !== "POST") return Response.json({ error: "not found" }, { status: 404 });
      const digest = blob[1]!;
      const hasher = new Bun.CryptoHasher("sha256");
      const upload: Upload = { digest, bytes: 0, contentLength: req.headers.get("content-length"), outcome: "receiving" };
      uploads.push(upload);
      try {
        for await (const chunk of req.body ?? []) {
          hasher.update(chunk);
          upload.bytes += chunk.byteLength;
        }
      } catch {
        upload.outcome = "aborted";
        return new Response(null, { status: 499 });
      }
      const got = `sha256:${hasher.digest("hex")}`;
      upload.outcome = got === digest ? "stored" : "mismatch";
      if (got !== digest) return Response.json({ error: `digest mismatch, expected "${digest}", got "${got}"` }, { status: 400 });
      return new Response(null, { status: 201 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, uploads, stop: () => server.stop(true) };
}
