// Queued passthrough: an inference request (chat, generate, embeddings, /v1) waits in the
// interactive lane until the worker sends it, then the target's reply streams back to the
// caller unchanged — status, content type, length, each NDJSON line or SSE event as soon as
// it arrives. The caller's life and the reply's life are two small state machines below.
// What needs no turn on the target does not queue (ADR 0019): a body Ollama would refuse
// before looking at the model is answered here in its words, an unload goes straight to the
// target, and a model a fresh /api/tags does not list gets Ollama's 404.
import { loadOf, type JobKind } from "../../jobs/kind.ts";
import type { RequestedLoad } from "../ollama/load-options.ts";
import { admit, type Admission } from "../../jobs/reading.ts";
import { ReplyFolder, type Outcome } from "../engine/reply.ts";
import type { InteractiveRequest } from "../engine/worker.ts";
import { collectAfter } from "../ops/collect.ts";
import { HttpError } from "../contract/http-error.ts";
import { checkedTag, clientOf } from "../contract/caller.ts";
import { serverTiming } from "../ops/server-timing.ts";
import { INTERACTIVE, type JobRecord } from "../queue/queue.ts";
import { replyHeaders, sizedLength } from "../target/client.ts";
import { TargetTimeout } from "../target/errors.ts";
import { looksUpLocally } from "../ollama/model-name.ts";
import { IdleReader } from "../target/stream.ts";
import { straight } from "./direct.ts";
import { GONE, refused, reply, type Answer, type Asked, type PassthroughPort } from "./port.ts";

/** Ollama's own queue-full message (two spaces after the first period). */
export const BUSY_MESSAGE = "server busy, please try again.  maximum pending requests exceeded";

type Gone = { kind: "gone" };

/** Ollama's scheduler refuses in its handler: on /v1 the dialect's writer encodes it, and foreman says why. */
const busy = (why: string): Answer => refused(503, BUSY_MESSAGE, "handler", why);

/** A body the target sized (Content-Length) up to this size is read whole and sent with that length. */
const WHOLE_REPLY_BYTES = 64 * 1024;

/**
 * What came of a body, then the break: the caller gets the status and those bytes, then the
 * connection is cut, as talking to the target directly. The break waits a turn of the event
 * loop, or Bun would drop the connection before writing anything; it errors with no reason, so
 * Bun prints nothing.
 */
function brokenBody(parts: Uint8Array[]): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      if (!sent) {
        sent = true;
        for (const part of parts) controller.enqueue(part);
        return;
      }
      await Bun.sleep(0);
      controller.error();
    },
  });
}

/** A reply that never starts: the connection closes with no byte written, as the target closed it. */
const cutBody = (): ReadableStream<Uint8Array> => new ReadableStream({ pull: (controller) => controller.error() });

/** How a read of the target's reply failed: silent (504) or dropped (502). */
const broken = (err: unknown): Outcome => ({ kind: "error", status: err instanceof TargetTimeout ? 504 : 502, message: (err as Error).message });

/** Why a read failed: foreman's own stop (its run-time cap, a cancel) when it stopped the reply, not the caller; else the read's error. */
const whyBroken = (err: unknown, stop: AbortSignal, callerSignal: AbortSignal): unknown => (stop.aborted && !callerSignal.aborted ? stop.reason : err);

/**
 * One target reply on its way to the caller, folded as it passes so the record knows how it
 * ended and how many tokens it carried.
 *
 *   reading (a small body the target sized) ──read whole──► ended (sent in one piece, with its length)
 *   streaming ──body ends──────────────► ended (done, or the target's error)
 *       ├──target silent or dropped,───► ended (failed: NDJSON gets an {"error"} line, the rest is cut off)
 *       │  or foreman stopped it (run-time cap, ADR 0035)
 *       └──caller cancels──────────────► ended (gone)
 *
 * A reply the target broke off must look broken to the caller, as it would talking to Ollama
 * directly (ADR 0018): a native NDJSON stream ends with Ollama's own {"error"} line; any other
 * reply (SSE, a non-streamed body) is cut off — the stream errors, so the connection closes
 * without the terminating chunk and the client's read fails. The status line is long gone by
 * then, and a 5xx would make OpenAI clients retry and run the inference twice anyway. A small
 * body the target sized (Ollama's non-streamed replies that fit its buffer) is read whole first,
 * because Bun sends a streamed body chunked whatever its headers say: the caller gets the
 * target's Content-Length (ADR 0019), and a break while reading is the same cut.
 */
class ReplyRelay {
  readonly answer: Promise<Answer>;
  private state: "reading" | "streaming" | "ended";
  private readonly outcome = Promise.withResolvers<Outcome | Gone>();

  constructor(res: Response, kind: JobKind, idleMs: number, timing: string, callerSignal: AbortSignal, stop: AbortSignal) {
    const headers = replyHeaders(res, { "server-timing": timing });
    const contentType = res.headers.get("content-type") ?? "";
    const ndjson = /x-ndjson/.test(contentType);
    const folder = new ReplyFolder(kind, { status: res.status, contentType }, { keep: false });
    // an NDJSON stream is never sized, and may get an {"error"} line of foreman's at its end
    const length = ndjson ? null : sizedLength(res);
    if (!res.body) {
      this.state = "ended";
      this.outcome.resolve(folder.end());
      this.answer = Promise.resolve(reply(new Response(null, { status: res.status, headers })));
    } else if (length !== null && length <= WHOLE_REPLY_BYTES) {
      this.state = "reading";
      this.answer = this.whole(new IdleReader(res.body, idleMs, callerSignal), folder, res.status, headers, callerSignal, stop);
    } else {
      this.state = "streaming";
      this.answer = Promise.resolve(reply(new Response(this.stream(new IdleReader(res.body, idleMs), folder, ndjson, callerSignal, stop), { status: res.status, headers })));
    }
  }

  /** Resolves once the caller has the whole reply, or went away: the worker holds the target that long. */
  get finished(): Promise<Outcome | Gone> {
    return this.outcome.promise;
  }

  private async whole(reader: IdleReader, folder: ReplyFolder, status: number, headers: Headers, callerSignal: AbortSignal, stop: AbortSignal): Promise<Answer> {
    const parts: Uint8Array[] = [];
    try {
      for (let chunk = await reader.next(); chunk !== null; chunk = await reader.next()) {
        parts.push(chunk);
        folder.push(chunk);
      }
    } catch (err) {
      if (callerSignal.aborted) {
        this.end({ kind: "gone" });
        return GONE;
      }
      this.end(broken(whyBroken(err, stop, callerSignal)));
      return reply(new Response(brokenBody(parts), { status, headers }));
    }
    this.end(folder.end());
    return reply(new Response(parts.length === 1 ? parts[0]! : Buffer.concat(parts), { status, headers }));
  }

  private stream(reader: IdleReader, folder: ReplyFolder, ndjson: boolean, callerSignal: AbortSignal, stop: AbortSignal): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        let chunk: Uint8Array | null;
        try {
          chunk = await reader.next();
        } catch (caught) {
          const err = whyBroken(caught, stop, callerSignal);
          this.end(broken(err));
          // erroring with no reason: Bun cuts the connection just the same, and prints nothing
          // to stderr (it prints a reason, outside foreman's JSON log)
          if (!ndjson) return controller.error();
          controller.enqueue(new TextEncoder().encode(JSON.stringify({ error: (err as Error).message }) + "\n"));
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
  }

  private end(outcome: Outcome | Gone): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.outcome.resolve(outcome);
  }
}

/**
 * A caller waiting in the interactive lane for its turn. It settles with a value — the target's
 * reply, a refusal, or the caller gone — that the edge words for the caller. Nothing here calls
 * back into the worker: it forgets the request once the job has ended, by the committed event.
 *
 *   queued ──worker delivers the target's reply──► relaying
 *     ├──worker fails it, or the maximum wait passes──► answered (a refusal)
 *     └──caller goes away──► gone (the request leaves the queue)
 */
class WaitingCall implements InteractiveRequest {
  readonly path: string;
  readonly headers: Headers;
  readonly signal: AbortSignal;
  private state: "queued" | "relaying" | "answered" | "gone" = "queued";
  private readonly settled = Promise.withResolvers<Answer>();
  private readonly over = Promise.withResolvers<void>();
  private readonly maxWait: ReturnType<typeof setTimeout>;
  private readonly enqueuedAt = Date.now();

  constructor(
    private readonly job: JobRecord,
    readonly kind: JobKind,
    readonly body: Uint8Array | Blob,
    request: Request,
    private readonly port: PassthroughPort,
    private readonly receivedAt: number,
    targetPath: string,
  ) {
    this.path = targetPath;
    this.headers = request.headers;
    this.signal = request.signal;
    const { interactiveMaxWaitMs } = port.config;
    this.maxWait = setTimeout(() => this.expire(interactiveMaxWaitMs), interactiveMaxWaitMs);
    request.signal.addEventListener("abort", () => this.leave(), { once: true });
  }

  /** What the caller gets: a refusal, or the relayed reply once the worker sends the request. */
  get answer(): Promise<Answer> {
    return this.settled.promise;
  }

  /** Resolves once the request is over: answered, gone, or its reply relayed to the end; its body is no longer needed. */
  get ended(): Promise<void> {
    return this.over.promise;
  }

  async deliver(res: Response, stop: AbortSignal): Promise<Outcome | Gone> {
    if (this.state !== "queued") {
      // the caller is already gone: nobody will read this reply, so do not hold the target for it
      await res.body?.cancel().catch(() => {});
      this.over.resolve();
      return { kind: "gone" };
    }
    const dispatched = this.port.queue.get(this.job.id)?.startedAt ?? Date.now();
    const timing = serverTiming([
      { name: "queue", ms: dispatched - this.enqueuedAt },
      { name: "target", ms: Date.now() - dispatched, desc: "until first byte" },
      { name: "foreman", ms: this.enqueuedAt - this.receivedAt },
    ]);
    const relay = new ReplyRelay(res, this.kind, this.port.config.idleTimeoutMs, timing, this.signal, stop);
    this.settle("relaying", relay.answer);
    void relay.finished.then(() => this.over.resolve());
    return relay.finished;
  }

  fail(status: number, message: string): void {
    if (this.state === "queued") this.settle("answered", refused(status, message));
  }

  cut(): void {
    if (this.state === "queued") this.settle("answered", reply(new Response(cutBody(), { status: 502 })));
  }

  /**
   * Only a request still in the queue gives up; one the worker has taken gets its reply. Ollama's
   * busy message is for a queue that is full; a caller that waited for a target that cannot be
   * reached is told that instead.
   */
  private expire(waitedMs: number): void {
    if (this.state !== "queued") return;
    const waited = `waited ${waitedMs} ms in the queue`;
    const down = this.port.poller.unreachable();
    const reason = down ? `${down}; ${waited}` : waited;
    if (!this.leaveQueue("failed", reason)) return;
    this.settle("answered", down ? refused(503, reason) : busy(reason));
  }

  private leave(): void {
    if (this.state !== "queued") return; // a reply being relayed ends through the relay's cancel
    this.leaveQueue("canceled", "the caller went away while queued");
    this.settle("gone", GONE);
  }

  /**
   * Takes the request out of the queue if the worker has not taken it; says whether it did. The
   * worker hears of it from the committed event, and forgets the request.
   */
  private leaveQueue(status: "failed" | "canceled", reason: string): boolean {
    const { queue } = this.port;
    if (queue.get(this.job.id)?.status !== "queued") return false;
    if (status === "failed") queue.fail(this.job.id, { status: 503, message: reason });
    else queue.cancel(this.job.id, reason);
    return true;
  }

  private settle(state: "relaying" | "answered" | "gone", answer: Answer | Promise<Answer>): void {
    this.state = state;
    clearTimeout(this.maxWait);
    this.settled.resolve(answer);
    if (state !== "relaying") this.over.resolve();
  }
}

/**
 * An unload only frees the target: it goes straight there, beside whatever the worker is
 * running, and Ollama answers it at once (the model leaves when its running request, if any,
 * has finished). The poller is told, so the scheduler no longer counts the model as resident.
 */
async function unloadNow(port: PassthroughPort, request: Request, targetPath: string, body: Uint8Array, model: string): Promise<Response> {
  const { target, poller, config } = port;
  const down = poller.unreachable();
  if (down) throw new HttpError(503, `${down}; try again later`);
  const unanswered = (status: 503 | 504, message: string): never => {
    throw new HttpError(status, message);
  };
  const timeoutMs = config.metadataTimeoutMs;
  const res = await straight(port, performance.now(), timeoutMs, unanswered, (send) => send(targetPath, { method: "POST", body, headers: target.headers(request.headers), signal: request.signal, timeoutMs }));
  if (res.ok) poller.noteUnloaded(model);
  return res;
}

/** What a queued request sends and how it is scheduled. */
export interface QueuedWork {
  kind: JobKind;
  model: string;
  /** Its drain key's load-time options (ADR 0021). */
  load: RequestedLoad;
  /** The caller's bytes, held, or spooled to a file. */
  body: Uint8Array | Blob;
  /** The caller's usage tag (`X-Foreman-Tag`, checked), if any (ADR 0036). */
  tag?: string | null;
}

/**
 * Puts `work` in the interactive lane and waits for its turn: the answer is the target's reply,
 * relayed, or a refusal (busy, the maximum wait, shutdown). `ended` resolves when the request is
 * over. The worker wakes on the committed `queued` event, a microtask later, by when the request
 * is attached.
 */
export function enqueueCall(port: PassthroughPort, asked: Asked, receivedAt: number, work: QueuedWork): { answer: Promise<Answer>; ended: Promise<void> } {
  const { request, url, requestId, peer } = asked;
  const { queue, worker, config } = port;
  const endpoint = work.kind.endpoint;
  // (a caller that left while its body was read or its model looked up is not queued)
  if (request.signal.aborted) return { answer: Promise.resolve(GONE), ended: Promise.resolve() };
  const waiting = queue.waitingInteractive();
  if (waiting >= config.interactiveMaxWaiting) return { answer: Promise.resolve(busy(`${waiting} requests already waiting`)), ended: Promise.resolve() };
  // who asked, for the usage ledger (ADR 0036)
  const client = clientOf(request, peer(), port.trustedProxies);
  const job = queue.enqueue({ lane: INTERACTIVE, endpoint, model: work.model, requestId, load: work.load, client, tag: work.tag ?? null });
  const call = new WaitingCall(job, work.kind, work.body, request, port, receivedAt, url.pathname + url.search);
  worker.attach(job.id, call);
  return { answer: call.answer, ended: call.ended };
}

/**
 * One inference request of `kind` (chat, generate, embeddings, /v1): its body read and checked as
 * Ollama would, an unload sent straight on, a model the target lacks refused, and the rest queued.
 */
export async function askQueued(port: PassthroughPort, asked: Asked, kind: JobKind): Promise<Answer> {
  const { request, url } = asked;
  const receivedAt = Date.now();
  const tag = checkedTag(request.headers.get("x-foreman-tag"), "X-Foreman-Tag", "/headers/x-foreman-tag");
  const askedAt = performance.now();
  const body = await port.bodies.whole(request);
  const admission = admitted(kind, body);
  collectAfter(body.byteLength); // the body's text and parsed value are garbage: only its bytes wait in the queue
  if (!admission.ok) return refused(admission.status, admission.message, admission.by);
  const { model, unload, lookupNext, load } = admission;
  if (unload) return reply(await unloadNow(port, request, url.pathname + url.search, body, model));
  if (lookupNext && looksUpLocally(model) && (await port.poller.lacks(model, askedAt, port.config.metadataGraceMs))) return refused(404, kind.reading.notFound(model), "handler");
  return enqueueCall(port, asked, receivedAt, { kind, model, load, body, tag }).answer;
}

/** What a queued request needs of a body Ollama would take (or Ollama's refusal), and nothing that holds the parsed body. */
function admitted(kind: JobKind, body: Uint8Array): Extract<Admission, { ok: false }> | { ok: true; model: string; unload: boolean; lookupNext: boolean; load: RequestedLoad } {
  const admission = admit(kind.reading, new TextDecoder().decode(body));
  if (!admission.ok) return admission;
  return { ok: true, model: admission.model, unload: admission.unload, lookupNext: admission.lookupNext, load: loadOf(kind, admission.body) };
}
