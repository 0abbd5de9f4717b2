// The simulator's public contract, kept apart from the server so every module
// (and every other engineer's code) can import the shapes without the shell.

export interface SimModelSpec {
  name: string;
  kind?: "chat" | "embed";
  loadMs?: number;
  size?: number;
  family?: string;
  parameterSize?: string;
  quantization?: string;
  contextLength?: number;
  embeddingLength?: number;
  capabilities?: string[];
}

export interface SimFaults {
  asleep: boolean;
  hung: boolean;
  firstByteDelayMs: number;
  errorBeforeFirstByte: { status: number; message: string } | null;
  errorMidStream: { afterChunks: number; message: string } | null;
  busy: boolean;
  failLoad: string[];
  /**
   * A request whose body contains this text is dropped before the first byte, every time: the
   * connection closes with nothing written, as when the request crashes Ollama (ADR 0030).
   * While it is set, request bodies are read whole to look for it.
   */
  dropWhen: string | null;
  /** A looping model: inference streams never end (the reply's tokens repeat until the caller goes away). */
  endless: boolean;
}

export interface SimOptions {
  port?: number;
  hostname?: string;
  models?: SimModelSpec[];
  tokenDelayMs?: number;
  loadMs?: number;
  responseTokens?: number;
  /** OLLAMA_MAX_LOADED_MODELS; default 3, Ollama's automatic value with no GPU (3 per GPU). Pin 1 to count swaps. */
  maxLoaded?: number;
  maxQueue?: number;
  keepAliveMs?: number;
  seed?: number;
  version?: string;
  /** OLLAMA_ORIGINS: extra allowed CORS origins, comma-separated (gin-contrib/cors wildcards, `*` for all). */
  origins?: string;
  faults?: Partial<SimFaults>;
}

export interface SimCounters {
  requests: Record<string, number>;
  /** Runners started (model loads), reloads included. */
  loads: number;
  /** Loads that first unloaded a resident runner: to make room, or to reload it with other load-time options. */
  swaps: number;
  /** Swaps that replaced a runner of the same model because load-time options (num_ctx, …) changed. */
  reloads: number;
  concurrent: number;
  maxConcurrent: number;
  aborted: number;
  completed: number;
  /** Requests dropped before the first byte by the `dropWhen` fault. */
  dropped: number;
}

export interface Simulator {
  readonly url: string;
  readonly port: number;
  readonly counters: SimCounters;
  faults(): SimFaults;
  setFaults(patch: Partial<SimFaults>): Promise<void>;
  resetCounters(): void;
  resident(): string[];
  stop(): Promise<void>;
}

/** Options with every default applied; what the modules below the shell read. */
export interface SimSettings {
  tokenDelayMs: number;
  loadMs: number;
  responseTokens: number;
  maxLoaded: number;
  maxQueue: number;
  keepAliveMs: number;
  seed: number;
  version: string;
}
