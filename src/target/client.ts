// The target client: how foreman talks to the one Ollama server. It owns the headers sent
// (Host is the target's own, the target token is added, hop-by-hop and client credentials
// are dropped, identity encoding is asked for) and the difference between "the target is
// unreachable" (not the job's fault: requeue) and an answer from the target.
import { TargetReset, TargetTimeout, TargetUnreachable, unreachableCause } from "./errors.ts";
import { type Liveness, probeLiveness } from "./probe.ts";
import { passOn } from "./stream.ts";

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
  "x-api-key",
  "accept-encoding",
  "x-request-id",
]);

/** Reply headers that describe one hop's framing, not the reply: the caller's hop gets its own. */
const RESPONSE_HOP_BY_HOP = ["connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"];

/** The target's reply headers as foreman passes them on, with `extra` set over them. */
export function replyHeaders(res: Response, extra: Record<string, string> = {}): Headers {
  const headers = new Headers(res.headers);
  for (const h of RESPONSE_HOP_BY_HOP) headers.delete(h);
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return headers;
}

/**
 * The length of a reply's body as the target sized it (Content-Length), or null: chunked, or
 * compressed on the way (fetch decodes it, and the length was the compressed body's).
 */
export function sizedLength(res: Response): number | null {
  const encoding = res.headers.get("content-encoding");
  const length = res.headers.get("content-length");
  if ((encoding && encoding !== "identity") || length === null || !/^\d+$/.test(length)) return null;
  return Number(length);
}

export interface TargetOptions {
  token?: string;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
}

/** The connection was taken and then closed before any answer: the target reset it (ADR 0030). */
function isResetError(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code ?? "";
  return /ECONNRESET|ConnectionClosed|EPIPE/i.test(code) || /socket connection was closed|ECONNRESET/i.test((err as Error)?.message ?? "");
}

function isUnreachableError(err: unknown): boolean {
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
    // Ollama never compresses, but a hop between (a reverse proxy in front of the Mac) may: ask
    // for the bytes as they are, so what foreman folds and relays is the reply itself (a reply
    // compressed anyway is decoded by fetch, and its Content-Encoding dropped with the framing)
    out.set("accept-encoding", "identity");
    if (!out.has("content-type")) out.set("content-type", "application/json");
    if (this.options.token) out.set("authorization", `Bearer ${this.options.token}`);
    return out;
  }

  /**
   * Sends a request; resolves when the target's headers arrive (Ollama sends them with the
   * first output chunk). Network failures become TargetUnreachable (TargetReset when the
   * connection was taken, then closed before any answer); silence past
   * `firstByteTimeoutMs` becomes TargetTimeout; the caller's abort is rethrown as is. A body
   * given as a stream (an upload) is sent as it comes; each chunk the target takes is progress,
   * so the first-byte clock starts over with it.
   */
  async send(path: string, init: { method: string; body?: string | Uint8Array | Blob | ReadableStream<Uint8Array> | null; headers?: Headers; signal?: AbortSignal; timeoutMs?: number }): Promise<Response> {
    const limit = init.timeoutMs ?? this.options.firstByteTimeoutMs;
    // one controller for the caller's abort and the first-byte timeout; it stays linked to the
    // caller's signal so aborting also stops reading the body
    const control = new AbortController();
    const timer = setTimeout(() => control.abort(new TargetTimeout(`the target sent nothing for ${limit} ms`)), limit);
    if (init.signal?.aborted) control.abort(init.signal.reason);
    else init.signal?.addEventListener("abort", () => control.abort(init.signal!.reason), { once: true });
    const body = init.body instanceof ReadableStream ? passOn(init.body, () => timer.refresh()) : init.body;
    try {
      return await fetch(this.baseUrl + path, {
        method: init.method,
        body: body ?? null,
        headers: init.headers ?? this.headers(),
        signal: control.signal,
        redirect: "manual",
      });
    } catch (err) {
      if (init.signal?.aborted) throw init.signal.reason ?? err;
      if (control.signal.reason instanceof TargetTimeout) throw control.signal.reason;
      if (isResetError(err)) throw new TargetReset("the target closed the connection before answering");
      // the cause in words (connection refused, timed out, DNS), never the target's address nor Bun's hint
      if (isUnreachableError(err)) throw new TargetUnreachable(`the target is unreachable: ${unreachableCause(err)}`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Liveness: HEAD / answers quickly even while a model loads (unlike /api/ps); when down, why.
   * Sent on a socket of its own, not through fetch, where it could queue behind the direct
   * requests (ADR 0030).
   */
  probe(): Promise<Liveness> {
    return probeLiveness(this.baseUrl, this.headers(), this.options.connectTimeoutMs);
  }

  async getJson(path: string, timeoutMs = this.options.connectTimeoutMs): Promise<{ status: number; text: string; contentType: string }> {
    // the deadline covers the body too: a target that stalls mid-reply must not hold the poller forever
    const res = await this.send(path, { method: "GET", timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") ?? "application/json" };
  }
}
