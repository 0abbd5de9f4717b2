// One chat turn through foreman's interactive lane: POST /api/chat with stream:true, the
// reply's text handed on as it arrives and folded into the non-streamed reply by the same
// assembler that makes a chat job's artifact. Aborting the signal closes the request, and
// foreman aborts it at the target.
import type { ForemanClient } from "../../clients/ts/index.ts";
import { chat } from "../../jobs/chat.ts";
import { ForemanConnectionError } from "../../clients/ts/errors.ts";
import { Failed } from "./exit-codes.ts";
import { ndjsonObjects } from "./ndjson.ts";

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: readonly ChatMessage[];
  /** "json", or a JSON schema (--format) */
  format?: unknown;
  /** true, false or a level (--think); absent: the model's default */
  think?: boolean | string;
  /** how long the model stays loaded after the answer (--keepalive), as Ollama reads it */
  keep_alive?: string | number;
}

export interface ChatListener {
  /** foreman answered: the request reached the target, which is answering */
  started?(): void;
  /** the answer's text, piece by piece */
  text(piece: string): void;
  /** a reasoning model's thinking, piece by piece */
  thinking(piece: string): void;
}

/** Streams the answer; resolves with the whole reply (`message`, `done`, timings) as Ollama gives it unstreamed. */
export async function streamChat(client: ForemanClient, request: ChatRequest, on: ChatListener, signal: AbortSignal): Promise<{ message: ChatMessage } & Record<string, unknown>> {
  const res = await client.request("POST", "/api/chat", {
    headers: { "content-type": "application/json", accept: "application/x-ndjson" },
    body: JSON.stringify({ ...request, stream: true }),
    signal,
  });
  on.started?.();
  const assembler = chat.assembler!();
  for await (const line of res.body ? ndjsonObjects(res.body, "foreman", signal) : []) {
    if (typeof line.error === "string") throw new Failed(line.error);
    const thinking = (line.message as { thinking?: unknown } | undefined)?.thinking;
    if (typeof thinking === "string" && thinking) on.thinking(thinking);
    const { text } = assembler.push(line);
    if (text) on.text(text);
  }
  if (!assembler.complete) throw new ForemanConnectionError("the reply ended before the model was done");
  return assembler.result() as { message: ChatMessage } & Record<string, unknown>;
}
