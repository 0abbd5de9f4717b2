// Turns the target's reply to an async job into its artifact: reads the stream (with the
// idle timeout), folds it with the endpoint's assembler, reports progress, and says how it
// ended. Pure of queue state: the worker decides what the outcome means for the job.
import type { JobKind } from "../../jobs/kind.ts";
import { DONE } from "../../jobs/openai-stream.ts";
import { splitLines, splitSse } from "../contract/lines.ts";
import { readBody } from "../target/client.ts";

export type Outcome =
  | { kind: "done"; artifact: { contentType: string; body: string }; chunks: number; tokens: number }
  /** The target answered with an error or broke the stream: `status` is the HTTP status (or 500 mid-stream). */
  | { kind: "error"; status: number; message: string };

export interface ProgressSink {
  (chunks: number, tokens: number, text: string): void;
}

/** The message of an error reply in either dialect, or its raw text. */
export function errorMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: string | { message?: string } };
    if (typeof parsed.error === "string") return parsed.error;
    if (parsed.error && typeof parsed.error.message === "string") return parsed.error.message;
  } catch {
    // not JSON
  }
  return text.trim() || "the target answered with an empty error body";
}

export async function consumeReply(kind: JobKind, res: Response, idleMs: number, signal: AbortSignal, onProgress: ProgressSink): Promise<Outcome> {
  const contentType = res.headers.get("content-type") ?? "application/json";
  const streamed = /x-ndjson|event-stream/.test(contentType);
  if (!res.ok || !streamed || !kind.assembler || !res.body) {
    let text = "";
    const decoder = new TextDecoder();
    if (res.body) await readBody(res.body, idleMs, (c) => (text += decoder.decode(c, { stream: true })), signal);
    if (!res.ok) return { kind: "error", status: res.status, message: errorMessage(text) };
    onProgress(1, 0, "");
    return { kind: "done", artifact: { contentType, body: text }, chunks: 1, tokens: 0 };
  }
  const assembler = kind.assembler();
  const split = kind.framing === "sse" ? splitSse : splitLines;
  const decoder = new TextDecoder();
  let buffer = "";
  let chunks = 0;
  let tokens = 0;
  let failure: Outcome | null = null;
  await readBody(
    res.body,
    idleMs,
    (bytes) => {
      if (failure) return;
      const { items, rest } = split(buffer + decoder.decode(bytes, { stream: true }));
      buffer = rest;
      for (const item of items) {
        if (item === "[DONE]") {
          assembler.push(DONE);
          continue;
        }
        let message: Record<string, unknown>;
        try {
          message = JSON.parse(item) as Record<string, unknown>;
        } catch {
          continue; // as the official clients do: a line that is not JSON is skipped
        }
        if ("error" in message && message.done === undefined) {
          failure = { kind: "error", status: 500, message: errorMessage(item) };
          return;
        }
        const p = assembler.push(message);
        chunks++;
        tokens += p.tokens;
        onProgress(chunks, tokens, p.text);
      }
    },
    signal,
  );
  if (failure) return failure;
  if (!assembler.complete) return { kind: "error", status: 502, message: "the target's stream ended before its final message" };
  const result = assembler.result() as Record<string, unknown>;
  const evalCount = typeof result.eval_count === "number" ? result.eval_count : tokens;
  const artifactType = kind.dialect === "ollama" ? "application/json; charset=utf-8" : "application/json";
  return { kind: "done", artifact: { contentType: artifactType, body: JSON.stringify(result) }, chunks, tokens: evalCount };
}
