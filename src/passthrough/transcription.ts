// POST /v1/audio/transcriptions (Ollama ≥ 0.20): a multipart upload that runs the chat handler —
// inference, so it waits its turn like the rest (ADR 0031). The body is spooled to a file beside
// the database as it arrives, under the body deadline (the upload's, not the wait's), the drain
// key's model is read from its `model` field on the way, and the same bytes go to the target when
// the turn comes; the file goes when the request is over. Not an async job: a multipart body has
// no place in POST /jobs.
import { mkdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { relayedKind } from "../../jobs/relayed.ts";
import { HttpError } from "../contract/http-error.ts";
import { spoolBody } from "../http/body.ts";
import { defineRoute, type RouteContext, type RouteDef } from "../http/route.ts";
import { multipartBoundary, MultipartField } from "./multipart.ts";
import { enqueueCall } from "./relay.ts";

/** Where uploads wait for their turn: beside the database (the image's /data volume), or the temporary folder for one in memory. */
export function spoolDir(db: string): string {
  return db === ":memory:" ? join(tmpdir(), `foreman-spool-${process.pid}`) : join(dirname(db), "spool");
}

/** At start-up: uploads spooled by a foreman that stopped have no caller left (an in-memory database's are this process's own). */
export function clearSpool(db: string): void {
  if (db !== ":memory:") rmSync(spoolDir(db), { recursive: true, force: true });
}

export function queuedTranscription(endpoint: string): RouteDef {
  const kind = relayedKind(endpoint);
  return defineRoute({
    summary: `${endpoint} (multipart), forwarded to the target through the queue (interactive lane)`,
    tags: ["passthrough"],
    responses: { 200: { description: "the target's reply, as it gives it" } },
    handle: async (ctx: RouteContext<undefined, undefined>) => {
      const { request, services } = ctx;
      const receivedAt = Date.now();
      const boundary = multipartBoundary(request.headers.get("content-type"));
      // the middleware's first words (Go's http.ErrNotMultipart)
      if (boundary === null) throw new HttpError(400, "failed to parse multipart form: request Content-Type isn't multipart/form-data");
      const dir = spoolDir(services.config.db);
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `${crypto.randomUUID()}.multipart`);
      const model = new MultipartField(boundary, "model");
      try {
        await spoolBody(request, services.config, path, (chunk) => model.push(chunk));
        if (!model.value) throw new HttpError(400, "model is required");
      } catch (err) {
        await rm(path, { force: true });
        throw err;
      }
      const call = enqueueCall(ctx, receivedAt, { kind, model: model.value, load: {}, body: Bun.file(path) });
      void call.ended.then(() => rm(path, { force: true }));
      return call.response;
    },
  });
}
