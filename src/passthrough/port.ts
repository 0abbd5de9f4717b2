// What the passthrough needs of the running foreman, and what it hands back (ADR 0037 §9). The
// edge (src/http/passthrough-routes.ts) builds the port from its services and words every answer
// in the caller's dialect: the passthrough names no route, no dialect and no services bag, and
// never calls back into the worker once it has handed a request over.
import type { Refuser } from "../../jobs/reading.ts";
import type { Poller } from "../engine/poller.ts";
import type { Worker } from "../engine/worker.ts";
import type { Queue } from "../queue/queue.ts";
import type { TargetClient } from "../target/client.ts";

/** A body on its way to the target, and what aborts it (the caller gone, the body too slow). */
export type Upload = { stream: ReadableStream<Uint8Array>; signal: AbortSignal };

/** How the edge reads a caller's body, under its limits, deadline and memory budget. */
export interface BodyReader {
  /** Read whole (held in memory). */
  whole(request: Request): Promise<Uint8Array>;
  /** Streamed on as it arrives, never held whole; null for a request without a body. */
  stream(request: Request): Upload | null;
  /** Spooled to the file `path`, each chunk shown to `onChunk` on the way. */
  spool(request: Request, path: string, onChunk: (chunk: Uint8Array) => void): Promise<number>;
}

/** The settings the passthrough reads. */
export interface PassthroughSettings {
  interactiveMaxWaitMs: number;
  interactiveMaxWaiting: number;
  idleTimeoutMs: number;
  metadataTimeoutMs: number;
  firstByteTimeoutMs: number;
  metadataGraceMs: number;
  maxBodyBytes: number;
  /** The database's path: uploads are spooled beside it. */
  db: string;
}

/** The passthrough's narrow port onto the queue, the worker, the poller and the target. */
export interface PassthroughPort {
  queue: Pick<Queue, "enqueue" | "get" | "fail" | "cancel" | "waitingInteractive">;
  worker: Pick<Worker, "attach">;
  poller: Pick<Poller, "tags" | "unreachable" | "lacks" | "noteUnloaded" | "noteTags" | "poll" | "markDown">;
  target: Pick<TargetClient, "send" | "headers">;
  config: PassthroughSettings;
  bodies: BodyReader;
  /** FOREMAN_TRUSTED_PROXIES, parsed: peers whose X-Forwarded-For is believed. */
  trustedProxies: ReadonlySet<string>;
}

/** One caller's request, as the edge received it. */
export interface Asked {
  request: Request;
  url: URL;
  requestId: string;
  /** The peer's address, when the server knows it. */
  peer(): string | undefined;
}

/**
 * How a passthrough request ended for its caller: the target's reply (relayed, or a reply the
 * passthrough made as the target would have: a cut connection), a refusal the edge words in the
 * caller's dialect (`by` which of Ollama's writers would have written it), or the caller gone.
 */
export type Answer =
  | { kind: "reply"; response: Response }
  /** `detail`: foreman's own words on why, which Ollama's native dialect leaves out. */
  | { kind: "refused"; status: number; message: string; by: Refuser; detail?: string }
  | { kind: "gone" };

export const reply = (response: Response): Answer => ({ kind: "reply", response });
export const refused = (status: number, message: string, by: Refuser = "middleware", detail?: string): Answer => ({ kind: "refused", status, message, by, ...(detail === undefined ? {} : { detail }) });
export const GONE: Answer = { kind: "gone" };
