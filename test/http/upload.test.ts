// The multipart splitter of POST /v1/files, pure: the same parts whatever the chunking; and the
// full disk's refusal.
import { describe, expect, test } from "bun:test";
import { HttpError } from "../../src/contract/http-error.ts";
import { MultipartParts, partFilename, refusedForRoom, type PartEvent } from "../../src/http/upload.ts";
import { seededRandom } from "../harness.ts";

const body = (boundary: string, file: string) =>
  `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${file}\r\n--${boundary}--\r\n`;

function split(bytes: Buffer, cuts: number[]): { parts: string[]; data: string[]; done: boolean } {
  const parts = new MultipartParts("XyZ");
  const events: PartEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parts.push(bytes.subarray(at, cut)));
    at = cut;
  }
  const out = { parts: [] as string[], data: [] as string[], done: parts.done };
  for (const e of events) {
    if ("part" in e) {
      out.parts.push(e.part);
      out.data.push("");
    } else out.data[out.data.length - 1] += Buffer.from(e.data).toString();
  }
  return out;
}

describe("MultipartParts", () => {
  // a file whose lines hold what looks like a boundary, and CRLFs
  const file = '{"a":"--XyZ"}\r\n{"b":"\\r\\n--Xy"}\n--XyZ is not a delimiter without CRLF before it\n';
  const bytes = Buffer.from(body("XyZ", file));

  test("one chunk: the parts' headers and data, and the end", () => {
    const r = split(bytes, []);
    expect(r.parts.length).toBe(2);
    expect(partFilename(r.parts[1]!)).toBe("in.jsonl");
    expect(r.data).toEqual(["batch", file]);
    expect(r.done).toBe(true);
  });

  test("the same at every chunking (seeded)", () => {
    const rand = seededRandom("multipart chunking");
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * bytes.length)).sort((a, b) => a - b);
      expect(split(bytes, cuts).data).toEqual(["batch", file]);
    }
  });

  test("a body cut before its closing boundary is not done", () => {
    expect(split(bytes.subarray(0, bytes.length - 10), []).done).toBe(false);
  });
});

describe("refusedForRoom", () => {
  test("a write refused for want of room is a 507 the SDKs do not retry; any other error is left as it is", () => {
    for (const code of ["ENOSPC", "EDQUOT"]) {
      const refusal = refusedForRoom(Object.assign(new Error("no space left on device"), { code }));
      expect(refusal).toBeInstanceOf(HttpError);
      expect(refusal).toMatchObject({ status: 507, headers: { "x-should-retry": "false" } });
      expect((refusal as HttpError).message).toContain(`disk is full (${code})`);
    }
    const other = Object.assign(new Error("permission denied"), { code: "EACCES" });
    expect(refusedForRoom(other)).toBe(other);
    const refused = new HttpError(413, "too large");
    expect(refusedForRoom(refused)).toBe(refused);
    expect(refusedForRoom(null)).toBeNull();
  });
});
