// POST /v1/messages/batches: the body `{"requests": [...]}` (up to 256 MB, exempt from
// FOREMAN_MAX_BODY_BYTES, ADR 0039) is read as it arrives and split into its requests, one at a
// time: each is checked as a batch line and written to a JSONL file beside the database, so the
// body is never held whole, let alone twice. The engine then runs that file as any batch's input.
// It is timed and refused as a file upload is (a stall timeout, a full disk's 507: ADR 0042).
import { HttpError } from "../contract/http-error.ts";
import { checkLine, MESSAGES_ENDPOINT } from "../engine/batches.ts";
import type { Files, FileWriter, WrittenFile } from "../queue/files.ts";
import { streamBody, type BodyLimits } from "./body.ts";
import { refusedForRoom } from "./upload.ts";

/** Anthropic's limits for one message batch. */
export const MAX_MESSAGE_BATCH_BYTES = 256 * 1024 * 1024;
export const MAX_MESSAGE_BATCH_REQUESTS = 100_000;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Splits `{"requests": [ {...}, {...} ]}` fed in chunks into the bytes of each request object,
 * holding only the request being read. Any other shape is an error naming where. Pure.
 */
export class RequestsSplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** where the top-level object stands: before its key, in it, after it, in the array, done */
  private phase: "start" | "key" | "colon" | "array" | "items" | "close" | "end" = "start";
  private key: number[] = [];
  private parts: Uint8Array[] = [];
  private inItem = false;
  private sawKey = false;

  /** The request objects completed by this chunk (their bytes). */
  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = this.inItem ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        else if (this.phase === "colon" && this.key.length <= 64) this.key.push(b); // the key being read
        continue;
      }
      if (this.inItem) {
        if (b === QUOTE) this.inString = true;
        else if (b === 0x7b || b === 0x5b) this.depth++;
        else if (b === 0x7d || b === 0x5d) {
          if (--this.depth === 0) {
            this.parts.push(chunk.subarray(start, i + 1));
            out.push(Buffer.concat(this.parts));
            this.parts = [];
            this.inItem = false;
            start = -1;
          }
        }
        continue;
      }
      if (isSpace(b)) continue;
      switch (this.phase) {
        case "start":
          if (b !== 0x7b) throw new HttpError(400, "the body must be a JSON object with requests");
          this.phase = "key";
          continue;
        case "key":
          if (b === 0x7d && !this.sawKey) throw new HttpError(400, "requests: Field required", "/requests");
          if (b !== QUOTE) throw new HttpError(400, "the body is not valid JSON");
          this.inString = true;
          this.key = [];
          this.phase = "colon";
          continue;
        case "colon": {
          const name = Buffer.from(this.key).toString();
          if (name !== "requests") throw new HttpError(400, `${name.slice(0, 64)}: Extra inputs are not permitted`, `/${name.slice(0, 64)}`);
          if (b !== 0x3a) throw new HttpError(400, "the body is not valid JSON");
          this.sawKey = true;
          this.phase = "array";
          continue;
        }
        case "array":
          if (b !== 0x5b) throw new HttpError(400, "requests: Input should be a valid list", "/requests");
          this.phase = "items";
          continue;
        case "items":
          if (b === 0x2c) continue;
          if (b === 0x5d) {
            this.phase = "close";
            continue;
          }
          if (b !== 0x7b) throw new HttpError(400, "requests: each request must be an object with custom_id and params", "/requests");
          this.inItem = true;
          this.depth = 1;
          start = i;
          continue;
        case "close":
          if (b !== 0x7d) throw new HttpError(400, "requests is the only field of a message batch", "/requests");
          this.phase = "end";
          continue;
        case "end":
          throw new HttpError(400, "the body has bytes after its JSON object");
      }
    }
    if (this.inItem) this.parts.push(chunk.slice(start));
    return out;
  }

  /** The body ended: it must have been one whole object. */
  end(): void {
    if (this.phase !== "end" || this.inItem) throw new HttpError(400, "the body ended before its JSON object did");
  }
}

/**
 * Reads the requests into a new file, one checked `{custom_id, params}` line each, on disk and not
 * yet recorded: its row is written with the batch's (BatchRunner.createMessageBatch).
 */
export async function receiveMessageBatch(request: Request, limits: BodyLimits, files: Files): Promise<WrittenFile> {
  const tooLarge = () => new HttpError(413, `the request body is larger than ${MAX_MESSAGE_BATCH_BYTES} bytes (256 MB), the limit for a message batch`);
  if (Number(request.headers.get("content-length") ?? "0") > MAX_MESSAGE_BATCH_BYTES) throw tooLarge();
  const body = streamBody(request, { ...limits, maxBodyBytes: MAX_MESSAGE_BATCH_BYTES }, "stall");
  if (!body) throw new HttpError(400, "requests: Field required", "/requests");
  const reader = body.stream.getReader();
  const splitter = new RequestsSplitter();
  let writer: FileWriter | undefined;
  const seen = new Set<string>();
  const decoder = new TextDecoder();
  const nl = new Uint8Array([0x0a]);
  let size = 0;
  let n = 0;
  try {
    writer = files.writer();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_MESSAGE_BATCH_BYTES) throw tooLarge();
      for (const item of splitter.push(value)) {
        n++;
        if (n > MAX_MESSAGE_BATCH_REQUESTS) throw new HttpError(400, `requests: a message batch holds at most ${MAX_MESSAGE_BATCH_REQUESTS} requests`, "/requests");
        const checked = checkLine(decoder.decode(item), n, MESSAGES_ENDPOINT, seen);
        if ("code" in checked) throw new HttpError(400, `requests.${n - 1}${checked.param ? `.${checked.param}` : ""}: ${checked.message}`, `/requests/${n - 1}`);
        writer.write(new TextEncoder().encode(JSON.stringify({ custom_id: checked.customId, params: JSON.parse(checked.request) })));
        writer.write(nl);
      }
    }
    splitter.end();
    if (n === 0) throw new HttpError(400, "requests: List should have at least 1 item", "/requests");
    return writer.finish();
  } catch (err) {
    reader.cancel().catch(() => {});
    writer?.abandon();
    throw refusedForRoom(err);
  }
}
