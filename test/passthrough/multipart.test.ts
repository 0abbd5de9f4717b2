// Reading the `model` of a multipart body chunk by chunk without holding it (pure), and telling
// a JSON body that names a model from anything else (the catch-all's rule).
import { describe, expect, test } from "bun:test";
import { namedModel, opensObject } from "../../src/passthrough/forward.ts";
import { multipartBoundary, MultipartField, partName } from "../../src/passthrough/multipart.ts";
import { seededRandom } from "../harness.ts";

/** A body as FormData encodes it (through Response, as a client would send it), and its boundary. */
async function encoded(fields: [string, string | Blob][]): Promise<{ bytes: Uint8Array; boundary: string }> {
  const form = new FormData();
  for (const [name, value] of fields) {
    if (typeof value === "string") form.append(name, value);
    else form.append(name, value, "a.wav");
  }
  const res = new Response(form);
  // (Bun's Response says its Content-Type only until the body is read)
  const boundary = multipartBoundary(res.headers.get("content-type"))!;
  return { bytes: new Uint8Array(await res.arrayBuffer()), boundary };
}

/** Pushes `bytes` in random cuts (some a single byte). */
function pushed(field: MultipartField, bytes: Uint8Array, random: () => number): void {
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * (random() < 0.3 ? 3 : 300));
    field.push(bytes.subarray(at, at + size));
    at += size;
  }
}

describe("multipart", () => {
  test("the boundary of a form-data Content-Type, quoted or not; none for anything else", () => {
    expect(multipartBoundary("multipart/form-data; boundary=abc")).toBe("abc");
    expect(multipartBoundary('Multipart/Form-Data; charset=x; boundary="a b"')).toBe("a b");
    for (const type of [null, "application/json", "multipart/form-data", "multipart/mixed; boundary=x", "multipart/form-data; boundary="]) expect(multipartBoundary(type)).toBeNull();
  });

  test("a part's name from its Content-Disposition", () => {
    expect(partName('Content-Disposition: form-data; name="model"')).toBe("model");
    expect(partName('content-disposition: form-data; filename="x.wav"; name=file\r\nContent-Type: audio/wav')).toBe("file");
    expect(partName("Content-Type: text/plain")).toBeNull();
  });

  test("the model is found wherever the cuts fall, before or after a large file, and only the first", async () => {
    const random = seededRandom("multipart cuts");
    const audio = new Blob([new Uint8Array(200_000).map((_, i) => (i * 7) % 256)]);
    for (const fields of [
      [["file", audio], ["model", "llama3.2"]],
      [["model", "qwen3:0.6b"], ["file", audio], ["model", "second"]],
      [["language", "en"], ["file", audio], ["prompt", "--not a boundary"], ["model", "ünïcode/m:1"]],
    ] as [string, string | Blob][][]) {
      const { bytes, boundary } = await encoded(fields);
      for (let round = 0; round < 20; round++) {
        const field = new MultipartField(boundary, "model");
        pushed(field, bytes, random);
        expect(field.value).toBe(fields.find(([name]) => name === "model")![1] as string);
      }
    }
  });

  test("no model field, or one too long to be a name: nothing", async () => {
    for (const fields of [[["file", new Blob(["x"])]], [["model", "m".repeat(10_000)]]] as [string, string | Blob][][]) {
      const { bytes, boundary } = await encoded(fields);
      const field = new MultipartField(boundary, "model");
      field.push(bytes);
      expect(field.value).toBeUndefined();
    }
  });
});

describe("the catch-all's rule", () => {
  test("a JSON object whose model is a name that is not blank", () => {
    expect(namedModel(new TextEncoder().encode(' {"model":"llama3.2","x":1}'))).toBe("llama3.2");
    for (const body of ['{"model":""}', '{"model":"  "}', '{"model":5}', '["model"]', '"model"', "{", "", "\xff"]) expect(namedModel(new TextEncoder().encode(body))).toBeNull();
  });

  test("whether a body can open a JSON object, looking past whitespace", () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(opensObject([enc(" \r\n"), enc("\t{")])).toBe(true);
    expect(opensObject([enc("  ")])).toBeUndefined();
    expect(opensObject([enc(" GGUF")])).toBe(false);
    expect(opensObject([enc("--boundary")])).toBe(false);
  });
});
