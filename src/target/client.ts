// The target client: how foreman talks to the one Ollama server. It owns the headers sent
// (Host is the target's own, the target token is added, hop-by-hop and client credentials
// are dropped) and the difference between "the target is unreachable" (not the job's fault:
// requeue) and an answer from the target.
export class TargetUnreachable extends Error {
  constructor(message: string) {
    super(message);
  }
}

/** The target accepted the request but said nothing for too long. */
export class TargetTimeout extends Error {}

/**
 * The connection broke after the target had started answering: the target was reachable,
 * so this counts as a failed attempt (bounded retries), not as a sleeping target.
 */
export class TargetDropped extends Error {}

const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
  "authorization",
  "accept-encoding",
  "x-request-id",
]);

export interface TargetOptions {
  token?: string;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

export function isUnreachableError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? "";
  return /ECONNREFUSED|ECONNRESET|ConnectionRefused|ConnectionClosed|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EPIPE|ETIMEDOUT|FailedToOpenSocket|UNABLE_TO_CONNECT/i.test(code)
    || /Unable to connect|socket connection was closed|ECONNRESET/i.test((err as Error)?.message ?? "");
}

export class TargetClient {
  readonly baseUrl: string;
  /** The base URL without any credentials it carries, for messages, logs and /status. */
  readonly displayUrl: string;

  constructor(
    baseUrl: string,
    readonly options: TargetOptions,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    const shown = new URL(this.baseUrl);
    shown.username = "";
    shown.password = "";
    this.displayUrl = shown.toString().replace(/\/$/, "");
  }

  /** End-to-end request headers for the target, from a client's headers (or none). */
  headers(incoming?: Headers): Headers {
    const out = new Headers();
    incoming?.forEach((value, key) => {
      if (!HOP_BY_HOP.has(key.toLowerCase())) out.set(key, value);
    });
    // Ollama only checks Origin against its own Host; a browser's Origin for foreman means nothing there.
    out.delete("origin");
    if (!out.has("content-type")) out.set("content-type", "application/json");
    if (this.options.token) out.set("authorization", `Bearer ${this.options.token}`);
    return out;
  }

  /**
   * Sends a request; resolves when the target's headers arrive (Ollama sends them with the
   * first output chunk). Network failures become TargetUnreachable; silence past
   * `firstByteTimeoutMs` becomes TargetTimeout; the caller's abort is rethrown as is.
   */
  async send(path: string, init: { method: string; body?: string | Uint8Array | ReadableStream<Uint8Array> | null; headers?: Headers; signal?: AbortSignal; timeoutMs?: number }): Promise<Response> {
    const limit = init.timeoutMs ?? this.options.firstByteTimeoutMs;
    // one controller for the caller's abort and the first-byte timeout; it stays linked to the
    // caller's signal so aborting also stops reading the body
    const control = new AbortController();
    const timer = setTimeout(() => control.abort(new TargetTimeout(`the target sent nothing for ${limit} ms`)), limit);
    if (init.signal?.aborted) control.abort(init.signal.reason);
    else init.signal?.addEventListener("abort", () => control.abort(init.signal!.reason), { once: true });
    try {
      return await fetch(this.baseUrl + path, {
        method: init.method,
        body: init.body ?? null,
        headers: init.headers ?? this.headers(),
        signal: control.signal,
        redirect: "manual",
        decompress: false,
      } as RequestInit);
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason ?? err;
      if (control.signal.reason instanceof TargetTimeout) throw control.signal.reason;
      if (isUnreachableError(err)) throw new TargetUnreachable(`target ${this.displayUrl} is unreachable: ${(err as Error).message}`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Liveness: HEAD / answers quickly even while a model loads (unlike /api/ps). */
  async probe(): Promise<boolean> {
    try {
      const res = await this.send("/", { method: "HEAD", timeoutMs: this.options.connectTimeoutMs });
      await res.body?.cancel();
      return res.status < 500;
    } catch {
      return false;
    }
  }

  async getJson(path: string, timeoutMs = this.options.connectTimeoutMs): Promise<{ status: number; text: string; contentType: string }> {
    const res = await this.send(path, { method: "GET", timeoutMs });
    return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") ?? "application/json" };
  }
}

/**
 * Reads a body, calling onChunk for each piece; a silence longer than idleMs aborts with
 * TargetTimeout. Returns when the body ends; rethrows the signal's reason when aborted.
 */
export async function readBody(body: ReadableStream<Uint8Array>, idleMs: number, onChunk: (chunk: Uint8Array) => void, signal?: AbortSignal): Promise<void> {
  const reader = body.getReader();
  let idle = false;
  // one timer, pushed back on every chunk; when it fires the pending read ends
  const timer = setTimeout(() => {
    idle = true;
    reader.cancel().catch(() => {});
  }, idleMs);
  const onAbort = () => reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      const next = await reader.read();
      if (signal?.aborted) throw signal.reason;
      if (idle) throw new TargetTimeout(`the target went silent for ${idleMs} ms mid-stream`);
      if (next.done) return;
      timer.refresh();
      try {
        onChunk(next.value);
      } catch (consumerError) {
        throw { consumerError };
      }
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    if (signal?.aborted) throw signal.reason;
    if (err && typeof err === "object" && "consumerError" in err) throw err.consumerError;
    if (err instanceof TargetTimeout) throw err;
    throw new TargetDropped(`the target dropped the connection mid-stream: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}
