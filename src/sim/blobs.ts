// HEAD and POST /api/blobs/:digest: the blob store create's `files` refer to.
// An upload is hashed as it streams in and its bytes are dropped, so the
// simulator keeps only digests and sizes however large the body.

import { ClientGone, SimError } from "./errors.ts";
import type { SimContext } from "./context.ts";
import type { Call } from "./context.ts";

/** manifest.BlobsPath's check; the digest is used as given (`sha256:` or `sha256-`, any hex case). */
function checkDigest(digest: string): void {
  if (!/^sha256[:-][0-9a-fA-F]{64}$/.test(digest)) throw new SimError(400, "invalid digest format");
}

export function headBlob(ctx: SimContext, call: Call): Response {
  checkDigest(call.param);
  if (ctx.catalogue.blobSize(call.param) === undefined) throw new SimError(404, `blob ${JSON.stringify(call.param)} not found`);
  return new Response(null, { status: 200 });
}

/** 200 if the blob exists (body unread), else 201 — or 400 when the body's digest is another. */
export async function createBlob(ctx: SimContext, req: Request, call: Call): Promise<Response> {
  checkDigest(call.param);
  if (ctx.catalogue.blobSize(call.param) !== undefined) return new Response(null, { status: 200 });
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  try {
    for await (const chunk of req.body ?? []) {
      hasher.update(chunk);
      size += chunk.byteLength;
    }
  } catch (err) {
    if (call.signal.aborted) throw new ClientGone();
    throw err;
  }
  const digest = `sha256:${hasher.digest("hex")}`;
  // NewLayer stores the blob under the digest it computed, even when it is not the one asked for.
  ctx.catalogue.addBlob(digest, size);
  if (digest !== call.param) throw new SimError(400, `digest mismatch, expected ${JSON.stringify(call.param)}, got ${JSON.stringify(digest)}`);
  return new Response(null, { status: 201 });
}
