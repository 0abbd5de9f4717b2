// What foreman knows about one kind of work (one target endpoint): the request shape, the
// framing of its streamed reply, and how to fold the reply into progress and into the artifact
// (the target's non-streamed response shape). Passthrough requests and async jobs of the same
// endpoint use the same kind.
import type { TSchema } from "@sinclair/typebox";
import type { RequestedLoad } from "../src/ollama/load-options.ts";
import type { OllamaReading } from "./reading.ts";

export interface Progress {
  /** Generated text in this message, for a live view. */
  text: string;
  /** Tokens this message adds. */
  tokens: number;
}

export interface Assembler {
  /** Folds one stream message (an NDJSON object, or the JSON of an SSE `data:`). */
  push(message: Record<string, unknown>): Progress;
  /** True once the stream's proper end was seen (done:true, or [DONE]). */
  readonly complete: boolean;
  /** The artifact, in the shape the target gives when not streaming. */
  result(): unknown;
}

export interface JobKind {
  endpoint: string;
  /** The request body's schema (model required), for POST /jobs. */
  request: TSchema;
  /** How Ollama reads the body up to the model: what foreman answers itself before queueing. */
  reading: OllamaReading;
  /**
   * The load-time options a body asks for (num_ctx, …: the drain key, ADR 0021). Absent for the
   * endpoints whose bodies cannot set any (Ollama's /v1 and Anthropic layers pass none on): they
   * run with the model's defaults.
   */
  load?(body: Record<string, unknown>): RequestedLoad;
  /** The body an async job sends: streaming when the endpoint can, so progress is visible. */
  jobBody(body: Record<string, unknown>): Record<string, unknown>;
  /** For streaming endpoints; absent when the reply is one JSON document. */
  assembler?(): Assembler;
  /** "ndjson" or "sse" for streaming endpoints. */
  framing?: "ndjson" | "sse";
}

export const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The load-time options a body of `kind` asks for; none for endpoints that cannot ask. */
export const loadOf = (kind: JobKind, body: Record<string, unknown>): RequestedLoad => kind.load?.(body) ?? {};

/** Whether the endpoint is Ollama's own API (`/api/*`, Go package `api`): its content types and refusals differ from the /v1 layer's. */
export const isNative = (kind: JobKind): boolean => kind.reading.struct[0] === "api";
