// Reading one small text field (the `model` of /v1/audio/transcriptions) out of a
// multipart/form-data body as its bytes go by, holding a few KiB at most: the body itself is
// spooled to disk, never held whole. What Go's `Request.FormValue` would find: the first part
// whose Content-Disposition names the field. Pure.

/** The boundary of a `multipart/form-data` Content-Type, or null when it is not one. */
export function multipartBoundary(contentType: string | null): string | null {
  const [type, ...params] = (contentType ?? "").split(";");
  if (type?.trim().toLowerCase() !== "multipart/form-data") return null;
  for (const param of params) {
    const eq = param.indexOf("=");
    if (eq === -1 || param.slice(0, eq).trim().toLowerCase() !== "boundary") continue;
    const value = param.slice(eq + 1).trim().replace(/^"(.*)"$/, "$1");
    return value === "" ? null : value;
  }
  return null;
}

/** The `name` a part's headers give it in their Content-Disposition, or null. */
export function partName(headers: string): string | null {
  for (const line of headers.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon === -1 || line.slice(0, colon).trim().toLowerCase() !== "content-disposition") continue;
    const m = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(line.slice(colon + 1));
    if (m) return (m[1] ?? m[2] ?? "").replace(/\\(.)/g, "$1");
  }
  return null;
}

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");

/**
 * Finds the value of the field `name` in a multipart body pushed chunk by chunk. Holds the bytes
 * since the last part boundary it has passed, and no more than `maxBytes` of one part's headers
 * and value: a longer value is not a field foreman looks for (`value` stays undefined).
 */
export class MultipartField {
  /** The field's value once found (UTF-8). */
  value: string | undefined;
  private held = Buffer.alloc(0);
  private readonly delimiter: Buffer;
  private done = false;

  constructor(
    boundary: string,
    private readonly name: string,
    private readonly maxBytes = 4096,
  ) {
    this.delimiter = Buffer.from(`--${boundary}`, "latin1");
  }

  push(chunk: Uint8Array): void {
    if (this.done) return;
    this.held = this.held.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.held, chunk]);
    for (;;) {
      const at = this.held.indexOf(this.delimiter);
      if (at === -1) {
        // keep what could be the start of a delimiter cut by the chunk's end
        this.held = this.held.subarray(Math.max(0, this.held.length - this.delimiter.length));
        return;
      }
      const part = this.held.subarray(at + this.delimiter.length);
      const headersEnd = part.indexOf("\r\n\r\n");
      if (headersEnd === -1) {
        // headers longer than any a text field has: not this part, look for the next one
        if (part.length > this.maxBytes) {
          this.held = part;
          continue;
        }
        this.held = this.held.subarray(at);
        return;
      }
      if (partName(latin1(part.subarray(0, headersEnd))) !== this.name) {
        this.held = part.subarray(headersEnd + 4);
        continue;
      }
      const value = part.subarray(headersEnd + 4);
      const end = value.indexOf(Buffer.concat([Buffer.from("\r\n"), this.delimiter]));
      if (end !== -1) {
        if (end <= this.maxBytes) this.value = new TextDecoder().decode(value.subarray(0, end));
        this.done = true;
        this.held = Buffer.alloc(0);
        return;
      }
      if (value.length > this.maxBytes) {
        this.done = true; // not a small text field
        this.held = Buffer.alloc(0);
      } else this.held = this.held.subarray(at);
      return;
    }
  }
}
