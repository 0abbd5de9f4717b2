// POST /v1/files: a multipart upload streamed part by part to a file beside the database, never
// held whole (ADR 0039). It is exempt from FOREMAN_MAX_BODY_BYTES and has OpenAI's limits for
// batch input instead: 200 MB and 50,000 lines. The file is fsync'd and its row committed and on
// disk before the reply, as a 202 of POST /jobs is. An upload may take as long as it keeps
// sending; a stall, a full disk (507) or any refusal leaves nothing behind (ADR 0042).
import { HttpError } from "../contract/http-error.ts";
import { multipartBoundary, partName } from "../passthrough/multipart.ts";
import { expirySeconds, type FileRecord, type Files, type FileWriter } from "../queue/files.ts";
import type { Queue } from "../queue/queue.ts";
import { streamBody, type BodyLimits } from "./body.ts";

export const MAX_FILE_BYTES = 200 * 1024 * 1024;
export const MAX_FILE_LINES = 50_000;
/** Room for the multipart framing and the small fields around the file. */
const FRAMING_BYTES = 64 * 1024;
const MAX_HEADERS_BYTES = 16 * 1024;
const MAX_FIELD_BYTES = 1024;

export type PartEvent = { part: string } | { data: Uint8Array };

/**
 * Splits a multipart/form-data body pushed chunk by chunk into part headers and data, holding no
 * more than one delimiter's length of data (and one part's headers). Pure.
 */
export class MultipartParts {
  private held = Buffer.alloc(0);
  private state: "preamble" | "delimited" | "headers" | "body" | "done" = "preamble";
  private readonly first: Buffer;
  private readonly next: Buffer;

  constructor(boundary: string) {
    this.first = Buffer.from(`--${boundary}`, "latin1");
    this.next = Buffer.from(`\r\n--${boundary}`, "latin1");
  }

  get done(): boolean {
    return this.state === "done";
  }

  push(chunk: Uint8Array): PartEvent[] {
    const out: PartEvent[] = [];
    this.held = this.held.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.held, chunk]);
    for (;;) {
      if (this.state === "done") return out;
      if (this.state === "preamble") {
        const at = this.held.indexOf(this.first);
        if (at === -1) return out;
        this.held = this.held.subarray(at + this.first.length);
        this.state = "delimited";
      } else if (this.state === "delimited") {
        if (this.held.length < 2) return out;
        if (this.held[0] === 0x2d && this.held[1] === 0x2d) {
          this.state = "done";
          return out;
        }
        const eol = this.held.indexOf("\r\n");
        if (eol === -1) return out;
        this.held = this.held.subarray(eol + 2);
        this.state = "headers";
      } else if (this.state === "headers") {
        const end = this.held.indexOf("\r\n\r\n");
        if (end === -1) {
          if (this.held.length > MAX_HEADERS_BYTES) throw new HttpError(400, "multipart part headers are too long");
          return out;
        }
        out.push({ part: this.held.subarray(0, end).toString("latin1") });
        this.held = this.held.subarray(end + 4);
        this.state = "body";
      } else {
        const at = this.held.indexOf(this.next);
        if (at === -1) {
          const keep = this.next.length - 1;
          if (this.held.length > keep) {
            out.push({ data: Buffer.from(this.held.subarray(0, this.held.length - keep)) });
            this.held = this.held.subarray(this.held.length - keep);
          }
          return out;
        }
        if (at > 0) out.push({ data: Buffer.from(this.held.subarray(0, at)) });
        this.held = this.held.subarray(at + this.next.length);
        this.state = "delimited";
      }
    }
  }
}

/** The filename a part's Content-Disposition gives, or null. */
export function partFilename(headers: string): string | null {
  const m = /;\s*filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(headers);
  return m ? (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1") : null;
}

/**
 * A write the file system refused for want of room (a full disk, a quota) as the upload's 507,
 * not retried by the SDKs (ADR 0042): nothing was kept, and sending the same bytes again at once
 * meets the same full disk. Any other error as it is.
 */
export function refusedForRoom(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code !== "ENOSPC" && code !== "EDQUOT") return err;
  return new HttpError(507, `foreman's disk is full (${code}): the upload was refused and nothing was kept; free space where foreman keeps its data, then send it again`, undefined, { "x-should-retry": "false" });
}

/** Streams the upload to a new file and records it; refusals in OpenAI's words, naming the limit. */
export async function receiveUpload(request: Request, limits: BodyLimits, files: Files, queue: Queue): Promise<FileRecord> {
  const boundary = multipartBoundary(request.headers.get("content-type"));
  if (boundary === null) throw new HttpError(400, "request Content-Type must be multipart/form-data with a boundary");
  const tooLarge = () => new HttpError(413, `file is larger than ${MAX_FILE_BYTES} bytes (200 MB), the limit for batch input`, "/file");
  if (Number(request.headers.get("content-length") ?? "0") > MAX_FILE_BYTES + FRAMING_BYTES) throw tooLarge();
  const upload = streamBody(request, { ...limits, maxBodyBytes: MAX_FILE_BYTES + FRAMING_BYTES }, "stall");
  if (!upload) throw new HttpError(400, "file is required", "/file");
  const reader = upload.stream.getReader();
  const parts = new MultipartParts(boundary);
  let writer: FileWriter | undefined;
  const fields: Record<string, string> = {};
  let current: string | null = null;
  let filename: string | null = null;
  let sawFile = false;
  try {
    writer = files.writer();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const event of parts.push(value)) {
        if ("part" in event) {
          current = partName(event.part);
          if (current === "file") {
            if (sawFile) throw new HttpError(400, "more than one file part", "/file");
            sawFile = true;
            filename = partFilename(event.part);
          }
          continue;
        }
        if (current === "file") {
          writer.write(event.data);
          if (writer.bytes > MAX_FILE_BYTES) throw tooLarge();
          if (writer.lines > MAX_FILE_LINES) throw new HttpError(400, `file has more than ${MAX_FILE_LINES} lines, the limit for batch input`, "/file");
        } else if (current !== null) {
          const text = (fields[current] ?? "") + new TextDecoder().decode(event.data);
          if (text.length > MAX_FIELD_BYTES) throw new HttpError(400, `${current}: longer than ${MAX_FIELD_BYTES} bytes`, `/${current}`);
          fields[current] = text;
        }
      }
    }
    if (!parts.done) throw new HttpError(400, "multipart body ended before its closing boundary");
    if (!sawFile) throw new HttpError(400, "file is required", "/file");
    if (fields.purpose === undefined) throw new HttpError(400, "purpose is required", "/purpose");
    if (fields.purpose !== "batch") throw new HttpError(400, `purpose: foreman keeps files for batches only; expected "batch", got ${JSON.stringify(fields.purpose.slice(0, 64))}`, "/purpose");
    const keep = expirySeconds(fields["expires_after[anchor]"], fields["expires_after[seconds]"], "expires_after");
    if (typeof keep !== "number") throw new HttpError(400, keep.error, `/${keep.field.replaceAll(".", "/")}`);
    const written = writer.finish();
    const record = files.recordOrDiscard(written, () => {
      if (written.lines > MAX_FILE_LINES) throw new HttpError(400, `file has more than ${MAX_FILE_LINES} lines, the limit for batch input`, "/file");
      return queue.atomically(() => files.record(written, "batch", filename || "unknown_file", Date.now(), keep));
    });
    await queue.settled();
    return record;
  } catch (err) {
    reader.cancel().catch(() => {});
    writer?.abandon();
    throw refusedForRoom(err);
  }
}
