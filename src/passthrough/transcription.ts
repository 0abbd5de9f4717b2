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
import { HttpError } from "../contract/http-error.ts";
import type { JobKind } from "../../jobs/kind.ts";
import { multipartBoundary, MultipartField } from "./multipart.ts";
import type { Answer, Asked, PassthroughPort } from "./port.ts";
import { enqueueCall } from "./relay.ts";

/** Where uploads wait for their turn: beside the database (the image's /data volume), or the temporary folder for one in memory. */
export function spoolDir(db: string): string {
  return db === ":memory:" ? join(tmpdir(), `foreman-spool-${process.pid}`) : join(dirname(db), "spool");
}

/** At start-up: uploads spooled by a foreman that stopped have no caller left (an in-memory database's are this process's own). */
export function clearSpool(db: string): void {
  if (db !== ":memory:") rmSync(spoolDir(db), { recursive: true, force: true });
}

/** Spools the upload, then waits its turn in the interactive lane; the file goes when the request is over. */
export async function queueTranscription(port: PassthroughPort, asked: Asked, kind: JobKind): Promise<Answer> {
  const { request } = asked;
  const receivedAt = Date.now();
  const boundary = multipartBoundary(request.headers.get("content-type"));
  // the middleware's first words (Go's http.ErrNotMultipart)
  if (boundary === null) throw new HttpError(400, "failed to parse multipart form: request Content-Type isn't multipart/form-data");
  const dir = spoolDir(port.config.db);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${crypto.randomUUID()}.multipart`);
  const model = new MultipartField(boundary, "model");
  try {
    await port.bodies.spool(request, path, (chunk) => model.push(chunk));
    if (!model.value) throw new HttpError(400, "model is required");
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  const call = enqueueCall(port, asked, receivedAt, { kind, model: model.value, load: {}, body: Bun.file(path) });
  void call.ended.then(() => rm(path, { force: true }));
  return call.answer;
}
