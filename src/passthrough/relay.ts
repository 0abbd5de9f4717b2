// Queued passthrough: an inference request (chat, generate, embeddings, /v1) waits in the
// interactive lane until the worker sends it, then the target's reply streams back to the
// caller unchanged — status, content type, each NDJSON line or SSE event as soon as it
// arrives. The caller's life and the reply's life are two small state machines below.
import { kindOf } from "../../jobs/index.ts";
import type { JobKind } from "../../jobs/kind.ts";
import { ReplyFolder, type Outcome } from "../engine/reply.ts";
import type { InteractiveRequest } from "../engine/worker.ts";
import { readBody } from "../http/body.ts";
import { CLIENT_CLOSED_REQUEST, dialectOf, errorResponse, type Dialect } from "../http/errors.ts";
import { HttpError } from "../contract/http-error.ts";
import { defineRoute, type RouteContext, type RouteDef } from "../http/route.ts";
import type { Services } from "../http/services.ts";
import { serverTiming } from "../ops/server-timing.ts";
import { INTERACTIVE, type JobRecord } from "../queue/queue.ts";
import { replyHeaders } from "../target/client.ts";
import { TargetTimeout } from "../target/errors.ts";
import { IdleReader } from "../target/stream.ts";

/** Ollama's own queue-full message (two spaces after the first period). */
export const BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded";

type Gone = { kind: "gone" };

/** The model named by a request body; foreman needs it to schedule, the body itself stays as sent. */
function modelOf(body: Uint8Array): string {
  if (body.byteLength === 0) throw new HttpError(400, "missing request body");
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(body));
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
  const model = (parsed as { model?: unknown } | null)?.model;
  if (typeof model !== "string" || model.trim() === "") throw new HttpError(400, "model is required", "/model");
  return model;
}

function busy(dialect: Dialect, why: string): Response {
  return errorResponse(dialect, 503, dialect === "ollama" ? BUSY_MESSAGE : `${BUSY_MESSAGE} (${why})`);
}

/**
 * One target reply on its way to the caller, folded as it passes so the record knows how it
 * ended and how many tokens it carried.
 *
 *   streaming ──body ends──────────────► ended (done, or the target's error)
 *       ├──target silent or dropped────► ended (failed: NDJSON gets an {"error"} line, the rest is cut off)
 *       └──caller cancels──────────────► ended (gone)
 *
 * A reply the target broke off must look broken to the caller, as it would talking to Ollama
 * directly (ADR 0018): a native NDJSON stream ends with Ollama's own {"error"} line; any other
 * reply (SSE, a non-streamed body) is cut off — the stream errors, so the connection closes
 * without the terminating chunk and the client's read fails. The status line is long gone by
 * then, and a 5xx would make OpenAI clients retry and run the inference twice anyway.
 */
class ReplyRelay {
  readonly response: Response;
  private state: "streaming" | "ended" = "streaming";
  private readonly outcome = Promise.withResolvers<Outcome | Gone>();

  constructor(res: Response, kind: JobKind, idleMs: number, timing: string) {
    const headers = replyHeaders(res, { "server-timing": timing });
    const contentType = res.headers.get("content-type") ?? "";
    const folder = new ReplyFolder(kind, { status: res.status, contentType }, { keep: false });
    if (!res.body) {
      this.end(folder.end());
      this.response = new Response(null, { status: res.status, headers });
      return;
    }
    const reader = new IdleReader(res.body, idleMs);
    const ndjson = /x-ndjson/.test(contentType);
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let chunk: Uint8Array | null;
        try {
          chunk = await reader.next();
        } catch (err) {
          const status = err instanceof TargetTimeout ? 504 : 502;
          const message = (err as Error).message;
          this.end({ kind: "error", status, message });
          // erroring with no reason: Bun cuts the connection just the same, and prints nothing
          // to stderr (it prints a reason, outside foreman's JSON log)
          if (!ndjson) return controller.error();
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ error: message }) + "\n"));
          controller.close();
          return;
        }
        if (chunk === null) {
          controller.close();
          this.end(folder.end());
          return;
        }
        controller.enqueue(chunk);
        folder.push(chunk);
      },
      cancel: () => {
        reader.cancel();
        this.end({ kind: "gone" });
      },
    });
    this.response = new Response(body, { status: res.status, headers });
  }

  /** Resolves once the caller has the whole reply, or went away: the worker holds the target that long. */
  get finished(): Promise<Outcome | Gone> {
    return this.outcome.promise;
  }

  private end(outcome: Outcome | Gone): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.outcome.resolve(outcome);
  }
}

/**
 * A caller waiting in the interactive lane for its turn.
 *
 *   queued ──worker delivers the target's reply──► relaying
 *     ├──worker fails it, or the maximum wait passes──► answered (an error reply)
 *     └──caller goes away──► gone (the request leaves the queue)
 */
class WaitingCall implements InteractiveRequest {
  readonly path: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  private state: "queued" | "relaying" | "answered" | "gone" = "queued";
  private readonly answer = Promise.withResolvers<Response>();
  private readonly maxWait: ReturnType<typeof setTimeout>;
  private readonly enqueuedAt = Date.now();

  constructor(
    private readonly job: JobRecord,
    private readonly kind: JobKind,
    readonly body: Uint8Array,
    request: Request,
    private readonly services: Services,
    private readonly receivedAt: number,
  ) {
    this.path = job.endpoint;
    this.headers = request.headers;
    this.signal = request.signal;
    const { interactiveMaxWaitMs } = services.config;
    this.maxWait = setTimeout(() => this.expire(interactiveMaxWaitMs), interactiveMaxWaitMs);
    request.signal.addEventListener("abort", () => this.leave(), { once: true });
  }

  /** What the route answers: an error, or the relayed reply once the worker sends the request. */
  get response(): Promise<Response> {
    return this.answer.promise;
  }

  async deliver(res: Response): Promise<Outcome | Gone> {
    this.services.worker.detach(this.job.id);
    if (this.state !== "queued") {
      // the caller is already gone: nobody will read this reply, so do not hold the target for it
      await res.body?.cancel().catch(() => {});
      return { kind: "gone" };
    }
    const dispatched = this.services.queue.get(this.job.id)?.startedAt ?? Date.now();
    const timing = serverTiming([
      { name: "queue", ms: dispatched - this.enqueuedAt },
      { name: "target", ms: Date.now() - dispatched, desc: "until first byte" },
      { name: "foreman", ms: this.enqueuedAt - this.receivedAt },
    ]);
    const relay = new ReplyRelay(res, this.kind, this.services.config.idleTimeoutMs, timing);
    this.settle("relaying", relay.response);
    return relay.finished;
  }

  fail(status: number, message: string): void {
    if (this.state === "queued") this.settle("answered", errorResponse(dialectOf(this.path), status, message));
  }

  /**
   * Only a request still in the queue gives up; one the worker has taken gets its reply. Ollama's
   * busy message is for a queue that is full; a caller that waited for a target that cannot be
   * reached is told that instead.
   */
  private expire(waitedMs: number): void {
    if (this.state !== "queued") return;
    const waited = `waited ${waitedMs} ms in the queue`;
    const down = this.services.poller.unreachable();
    const reason = down ? `${down}; ${waited}` : waited;
    if (!this.leaveQueue("failed", reason)) return;
    this.settle("answered", down ? errorResponse(dialectOf(this.path), 503, reason) : busy(dialectOf(this.path), reason));
  }

  private leave(): void {
    if (this.state !== "queued") return; // a reply being relayed ends through the relay's cancel
    this.leaveQueue("canceled", "the caller went away while queued");
    this.settle("gone", new Response(null, { status: CLIENT_CLOSED_REQUEST }));
  }

  /** Takes the request out of the queue if the worker has not taken it; says whether it did. */
  private leaveQueue(status: "failed" | "canceled", reason: string): boolean {
    const { queue, worker } = this.services;
    worker.detach(this.job.id);
    if (queue.get(this.job.id)?.status !== "queued") return false;
    queue.transition(this.job.id, status, status === "failed" ? { error: { status: 503, message: reason } } : { data: { reason } });
    return true;
  }

  private settle(state: "relaying" | "answered" | "gone", response: Response): void {
    this.state = state;
    clearTimeout(this.maxWait);
    this.answer.resolve(response);
  }
}

/** A queued passthrough route for one inference endpoint. */
export function queuedPassthrough(endpoint: string): RouteDef {
  const kind = kindOf(endpoint);
  if (!kind) throw new Error(`no job kind for ${endpoint}`);
  return defineRoute({
    summary: `${endpoint}, forwarded to the target through the queue (interactive lane)`,
    tags: ["passthrough"],
    responses: { 200: { description: "the target's reply, streamed as it arrives" } },
    handle: async ({ request, services, requestId }: RouteContext<undefined, undefined>) => {
      const receivedAt = Date.now();
      const body = await readBody(request, services.config);
      const model = modelOf(body);
      const { queue, worker, config } = services;
      const waiting = queue.waitingInteractive();
      if (waiting >= config.interactiveMaxWaiting) return busy(dialectOf(endpoint), `${waiting} requests already waiting`);
      const job = queue.enqueue({ lane: INTERACTIVE, endpoint, model, requestId });
      const call = new WaitingCall(job, kind, body, request, services, receivedAt);
      worker.attach(job.id, call);
      worker.wake();
      return call.response;
    },
  });
}
