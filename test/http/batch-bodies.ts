// Bodies of batch uploads for the tests of their faults: a JSONL batch file, its multipart
// form, an Anthropic message batch, and a body sent piece by piece with pauses (a slow link).

export const BOUNDARY = "batch-XyZ";
export const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;

const chatLine = (i: number) => JSON.stringify({ custom_id: `line-${i}`, method: "POST", url: "/v1/chat/completions", body: { model: "llama3.2", messages: [{ role: "user", content: `say ${i}` }] } });

/** A valid batch input file of `lines` chat lines (about 170 bytes each). */
export const fileText = (lines: number) => `${Array.from({ length: lines }, (_, i) => chatLine(i)).join("\n")}\n`;

/** POST /v1/files's body for `file` (purpose=batch), with the MULTIPART content type. */
export const multipart = (file: string) =>
  Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n\r\n${file}\r\n--${BOUNDARY}--\r\n`);

/** `n` valid requests of an Anthropic message batch. */
export const requests = (n: number) => Array.from({ length: n }, (_, i) => ({ custom_id: `r-${i}`, params: { model: "llama3.2", max_tokens: 8, messages: [{ role: "user" as const, content: `say ${i}` }] } }));

/** POST /v1/messages/batches's body for `n` requests. */
export const messageBatch = (n: number) => Buffer.from(JSON.stringify({ requests: requests(n) }));

/**
 * `bytes` sent in `pieces` chunks `gapMs` apart; before piece `stall.at` (if any) a pause of
 * `stall.ms` instead. `progress.sent` counts the pieces out.
 */
export function trickle(bytes: Buffer, pieces: number, gapMs: number, stall?: { at: number; ms: number }) {
  const size = Math.ceil(bytes.length / pieces);
  let i = 0;
  const progress = { sent: 0 };
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i >= pieces) return controller.close();
      await Bun.sleep(stall?.at === i ? stall.ms : i === 0 ? 0 : gapMs);
      controller.enqueue(bytes.subarray(i * size, (i + 1) * size));
      i++;
      progress.sent = i;
    },
  });
  return { body, progress };
}
