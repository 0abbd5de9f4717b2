// Folding a target reply into a result: the same fold serves async jobs (which keep the
// artifact) and passthrough requests (which only record how the reply ended and how many
// tokens it carried). Streamed replies are split into NDJSON lines or SSE events and fed to the
// endpoint's assembler from jobs/; single JSON replies are kept whole. Pure of I/O and of queue
// state: the worker decides what an outcome means for the job.
import { isNative, type JobKind, type Progress } from "../../jobs/kind.ts";
import { DONE } from "../../jobs/openai-stream.ts";
import { splitLines, splitSse } from "../contract/lines.ts";
import { readAll } from "../target/stream.ts";
import { reportedUsage, type ReportedUsage } from "./usage.ts";

export type Outcome =
  /** `reported`: the counts and durations the reply carried (ADR 0036). */
  | { kind: "done"; artifact: { contentType: string; body: string }; chunks: number; tokens: number; reported: ReportedUsage }
  /** The target answered with an error or broke the stream: `status` is the HTTP status (or 500 mid-stream). */
  | { kind: "error"; status: number; message: string };

export interface ProgressSink {
  (chunks: number, tokens: number, text: string): void;
}

/** The message of an error reply in either dialect, or its raw text. */
function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string | { message?: string } };
    if (typeof parsed.error === "string") return parsed.error;
    if (parsed.error && typeof parsed.error.message === "string") return parsed.error.message;
  } catch {
    // not JSON
  }
  return text.trim() || "the target answered with an empty error body";
}

/** A single JSON reply larger than this is relayed without being kept (only async jobs keep it all). */
const KEEP_SINGLE_BYTES = 1 << 20;

export interface FoldOptions {
  /** Keep the whole reply as the artifact (async jobs); passthrough only needs the outcome. */
  keep: boolean;
  onProgress?: ProgressSink;
}

/** Folds one reply chunk by chunk; `end()` says how it ended. */
export class ReplyFolder {
  private readonly decoder = new TextDecoder();
  private readonly streamed: boolean;
  private readonly assembler;
  private readonly split;
  private buffer = "";
  private kept = 0;
  private overflow = false;
  private chunks = 0;
  private tokens = 0;
  private failure: Outcome | null = null;

  constructor(
    private readonly kind: JobKind,
    private readonly reply: { status: number; contentType: string },
    private readonly options: FoldOptions,
  ) {
    const ok = reply.status >= 200 && reply.status < 300;
    this.streamed = ok && /x-ndjson|event-stream/.test(reply.contentType) && kind.assembler !== undefined;
    this.assembler = this.streamed ? kind.assembler!() : null;
    this.split = kind.framing === "sse" ? splitSse : splitLines;
  }

  push(bytes: Uint8Array): void {
    if (this.failure) return;
    const text = this.decoder.decode(bytes, { stream: true });
    if (!this.streamed) {
      this.kept += bytes.byteLength;
      if (this.options.keep || this.kept <= KEEP_SINGLE_BYTES) this.buffer += text;
      else this.overflow = true;
      return;
    }
    const { items, rest } = this.split(this.buffer + text);
    this.buffer = rest;
    for (const item of items) this.item(item);
  }

  private item(item: string): void {
    if (this.failure) return;
    if (item === "[DONE]") {
      this.assembler!.push(DONE);
      return;
    }
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(item) as Record<string, unknown>;
    } catch {
      return; // as the official clients do: a line that is not JSON is skipped
    }
    if ("error" in message && message.done === undefined) {
      this.failure = { kind: "error", status: 500, message: errorMessage(item) };
      return;
    }
    let p: Progress;
    try {
      p = this.assembler!.push(message);
    } catch (err) {
      // a message the assembler cannot fold (say a tool call's arguments that are not JSON) makes
      // the result unknowable; the bytes themselves still reach a passthrough caller unchanged
      this.failure = { kind: "error", status: 502, message: `the target's reply could not be read: ${(err as Error).message}` };
      return;
    }
    this.chunks++;
    this.tokens += p.tokens;
    this.options.onProgress?.(this.chunks, this.tokens, p.text);
  }

  end(): Outcome {
    if (this.failure) return this.failure;
    const ok = this.reply.status >= 200 && this.reply.status < 300;
    if (!this.streamed) {
      const text = this.buffer + this.decoder.decode();
      if (!ok) return { kind: "error", status: this.reply.status, message: errorMessage(text) };
      let tokens = 0;
      let reported: ReportedUsage = {};
      if (!this.overflow && text !== "") {
        try {
          reported = reportedUsage(JSON.parse(text));
          tokens = reported.outputTokens ?? 0;
        } catch {
          // not JSON: nothing to count
        }
      }
      this.options.onProgress?.(1, tokens, "");
      return { kind: "done", artifact: { contentType: this.reply.contentType, body: this.options.keep ? text : "" }, chunks: 1, tokens, reported };
    }
    const { items } = this.split(this.buffer + this.decoder.decode() + (this.split === splitSse ? "\n\n" : "\n"));
    for (const item of items) this.item(item);
    if (this.failure) return this.failure;
    if (!this.assembler!.complete) return { kind: "error", status: 502, message: "the target's stream ended before its final message" };
    const result = this.assembler!.result();
    const reported = reportedUsage(result);
    const tokens = reported.outputTokens ?? this.tokens;
    if (!this.options.keep) return { kind: "done", artifact: { contentType: this.reply.contentType, body: "" }, chunks: this.chunks, tokens, reported };
    // the content type the endpoint gives its non-streamed reply
    const contentType = isNative(this.kind) ? "application/json; charset=utf-8" : "application/json";
    return { kind: "done", artifact: { contentType, body: JSON.stringify(result) }, chunks: this.chunks, tokens, reported };
  }
}

/** An async job's reply, read to the end (with the idle deadline) and folded into its artifact. */
export async function consumeReply(kind: JobKind, res: Response, idleMs: number, signal: AbortSignal, onProgress: ProgressSink): Promise<Outcome> {
  const folder = new ReplyFolder(kind, { status: res.status, contentType: res.headers.get("content-type") ?? "application/json" }, { keep: true, onProgress });
  if (res.body) await readAll(res.body, idleMs, (chunk) => folder.push(chunk), signal);
  return folder.end();
}
