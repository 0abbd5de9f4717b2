// Paths foreman has no route for are forwarded, never refused (ADR 0031), so the next Ollama
// release works through foreman the day it ships. A POST whose JSON body names a model will make
// the target load one — inference — so it waits its turn in the interactive lane and its reply is
// relayed byte for byte (`/v1/systemone`); anything else goes straight to the target, body
// streamed. The exceptions go straight through whatever their body names.
import { relayedKind } from "../../jobs/relayed.ts";
import { HttpError } from "../contract/http-error.ts";
import { sendOn } from "./direct.ts";
import { reply, type Answer, type Asked, type PassthroughPort, type Upload } from "./port.ts";
import { enqueueCall } from "./relay.ts";

/**
 * Paths under a catch-all that are never queued: blob uploads (raw bytes, gigabytes), and
 * Ollama's ChatGPT-desktop integration, which it may route to a cloud.
 */
const NEVER_QUEUED = [/^\/api\/blobs\//, /^\/api\/codex(\/|$)/];

export const neverQueued = (pathname: string): boolean => NEVER_QUEUED.some((p) => p.test(pathname));

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Whether the bytes so far can begin a JSON object: true, false, or undefined while they are all whitespace. Pure. */
export function opensObject(parts: readonly Uint8Array[]): boolean | undefined {
  for (const part of parts) {
    for (const byte of part) if (!WHITESPACE.has(byte)) return byte === 0x7b;
  }
  return undefined;
}

/** The model a body names: a JSON object whose `model` is a string that is not blank; else null. Pure. */
export function namedModel(bytes: Uint8Array): string | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  const model = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as { model?: unknown }).model : undefined;
  return typeof model === "string" && model.trim() !== "" ? model : null;
}

const readerOf = (body: ReadableStream<Uint8Array>) => body.getReader();
type Reader = ReturnType<typeof readerOf>;

/** The chunks already read, then the rest of `reader`: the body as the caller sent it. */
function replayed(parts: Uint8Array[], reader: Reader | null): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = parts.shift();
        if (next) return controller.enqueue(next);
        const read = await reader?.read();
        if (!read || read.done) controller.close();
        else controller.enqueue(read.value);
      },
      cancel: (reason) => reader?.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * Reads a body only as far as it takes to know whether it is JSON naming a model: a body that
 * does not open a JSON object, or is larger than `maxBodyBytes`, is handed back unread as an
 * upload; one read to its end is that model and its bytes, or the upload of those bytes.
 */
async function peek(request: Request, port: PassthroughPort): Promise<{ model: string; bytes: Uint8Array } | { model: null; upload: Upload | null }> {
  const upload = port.bodies.stream(request);
  if (!upload) return { model: null, upload: null };
  const reader = readerOf(upload.stream);
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      const bytes = Buffer.concat(parts);
      const model = namedModel(bytes);
      return model !== null ? { model, bytes } : { model: null, upload: { stream: replayed(parts, null), signal: upload.signal } };
    }
    parts.push(value);
    size += value.byteLength;
    if (opensObject(parts) === false || size > port.config.maxBodyBytes) return { model: null, upload: { stream: replayed(parts, reader), signal: upload.signal } };
  }
}

/** POST to a path foreman has no route for: queued when its JSON body names a model, else straight to the target. */
export async function forwardPost(port: PassthroughPort, asked: Asked): Promise<Answer> {
  const { request, url } = asked;
  const receivedAt = Date.now();
  const started = performance.now();
  const targetPath = url.pathname + url.search;
  const unanswered = (status: 503 | 504, message: string): never => {
    throw new HttpError(status, message);
  };
  const timeoutMs = port.config.firstByteTimeoutMs;
  if (neverQueued(url.pathname)) return reply(await sendOn(port, request, targetPath, port.bodies.stream(request), started, timeoutMs, unanswered));
  const peeked = await peek(request, port);
  if (peeked.model === null) return reply(await sendOn(port, request, targetPath, peeked.upload, started, timeoutMs, unanswered));
  return enqueueCall(port, asked, receivedAt, { kind: relayedKind(url.pathname), model: peeked.model, load: {}, body: peeked.bytes }).answer;
}
