// Direct passthrough: metadata and model management go straight to the target, not through
// the queue. Identical metadata GETs in flight together share one upstream request; metadata
// has a short deadline of its own, and while the target is unreachable /api/tags and
// /v1/models come from the poller's last good copy (at once when the poller says it is down,
// after a short grace when it has not noticed yet), other metadata is a 503 at once.
import { HttpError } from "../contract/http-error.ts";
import { serverTiming } from "../ops/server-timing.ts";
import { replyHeaders, sizedLength, type TargetClient } from "../target/client.ts";
import { TargetReset, TargetTimeout, TargetUnreachable } from "../target/errors.ts";
import { passOn } from "../target/stream.ts";
import { unforwardable } from "./path-policy.ts";
import type { Asked, PassthroughPort, Upload } from "./port.ts";

/** A complete reply up to this size is copied in one piece; larger ones are relayed as they come. */
const SMALL_REPLY_BYTES = 64 * 1024;

/** The shared reply (read whole) of the route's request in flight under `key`; each caller gets its own copy of it. */
async function coalesced(inFlight: Map<string, Promise<Response>>, key: string, fetchReply: () => Promise<Response>): Promise<Response> {
  let pending = inFlight.get(key);
  if (!pending) {
    pending = fetchReply().finally(() => inFlight.delete(key));
    inFlight.set(key, pending);
  }
  return (await pending).clone() as Response;
}

const timing = (started: number, sent: number, answered: number) =>
  serverTiming([
    { name: "target", ms: answered - sent },
    { name: "foreman", ms: sent - started },
  ]);

export interface DirectOptions {
  /**
   * A metadata request (tags, ps, version, show, models, `/`): it gets FOREMAN_METADATA_TIMEOUT_MS
   * rather than the first-byte timeout meant for model loads, and while the poller says the
   * target is down it is answered at once without trying the target — a sleeping machine may
   * drop packets, and the request would only wait out its deadline (ADR 0018).
   */
  metadata?: boolean;
  /** While the target cannot answer, served from the poller's last good /api/tags. */
  cached?: "tags" | "models";
  /**
   * An idempotent GET whose reply is one small JSON document (tags, ps, version, models):
   * concurrent identical requests share one upstream request, and every caller still gets an
   * answer the target gave after its request arrived (ADR 0008).
   */
  coalesce?: boolean;
}

/**
 * Metadata and model management: straight to the target, not queued. Each route that forwards
 * this way gets its own forwarder, and with it its own map of coalesced requests in flight.
 */
export function directForwarder(opts: DirectOptions = {}): (port: PassthroughPort, asked: Asked) => Promise<Response> {
  /** Identical metadata GETs to this route in flight at the same moment share one request to the target. */
  const inFlight = new Map<string, Promise<Response>>();
  return async (port, { request, url }) => {
    const started = performance.now();
    const { target, poller, config } = port;
    const refused = unforwardable(url.pathname);
    if (refused) throw new HttpError(400, `the path ${url.pathname} has ${refused}; foreman does not forward it`);
    const targetPath = url.pathname + url.search;
    /** The poller's last good copy, for a route served from it. */
    const lastCopy = () => (opts.cached && poller.tags ? fromCache(opts.cached, poller.tags.text, poller.tags.at, url.pathname) : null);
    /** The last good copy where there is one, else the error. */
    const unanswered = (status: 503 | 504, message: string) => {
      const cached = lastCopy();
      if (cached) return cached;
      throw new HttpError(status, message);
    };
    const down = opts.metadata ? poller.unreachable() : null;
    if (down) return unanswered(503, `${down}; try again later`);
    const timeoutMs = opts.metadata ? config.metadataTimeoutMs : config.firstByteTimeoutMs;
    if (opts.coalesce && request.method === "GET") {
      const headers = target.headers(request.headers);
      // the same path with the same headers (User-Agent and Accept included): one request
      const key = [targetPath, ...[...headers].map(([k, v]) => `${k}: ${v}`)].join("\n");
      const answer = straight(port, started, timeoutMs, unanswered, (send) =>
        coalesced(inFlight, key, async () => {
          const reply = await copied(await send(targetPath, { method: "GET", headers, timeoutMs }));
          // every good /api/tags the target gives, a client's included, is the copy served while it sleeps
          if (opts.cached === "tags") poller.noteTags(reply.status, await reply.clone().text(), reply.headers.get("content-type") ?? "application/json");
          return reply;
        }),
      );
      return opts.cached ? orCopyAfter(config.metadataGraceMs, answer, lastCopy) : answer;
    }
    // the body (a blob upload may be gigabytes) streams on as it arrives, never held whole
    const upload = request.method !== "GET" && request.method !== "HEAD" ? port.bodies.stream(request) : null;
    const answer = sendOn(port, request, targetPath, upload, started, timeoutMs, unanswered);
    return opts.cached ? orCopyAfter(config.metadataGraceMs, answer, lastCopy) : answer;
  };
}

/**
 * The target's answer, or the last good copy once `graceMs` has passed without one: a target
 * that stops answering without refusing (a sleeping Mac drops packets) would otherwise hold the
 * first request for the whole metadata deadline, before the poller notices. The request goes on
 * and its answer, when it comes, refreshes the copy (ADR 0030).
 */
async function orCopyAfter(graceMs: number, answer: Promise<Response>, copy: () => Response | null): Promise<Response> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<"grace">((resolve) => (timer = setTimeout(() => resolve("grace"), graceMs)));
  try {
    const first = await Promise.race([answer, grace]);
    if (first !== "grace") return first;
  } finally {
    clearTimeout(timer);
  }
  const cached = copy();
  if (!cached) return answer;
  answer.then((late) => late.body?.cancel(), () => {});
  return cached;
}

/** The caller's request sent on to the target as it is, its body (if any) streamed, the reply handed back by `straight`. */
export function sendOn(port: PassthroughPort, request: Request, targetPath: string, upload: Upload | null, started: number, timeoutMs: number, unanswered: (status: 503 | 504, message: string) => Response): Promise<Response> {
  const headers = port.target.headers(request.headers);
  const declared = request.headers.get("content-length");
  if (upload && declared !== null) headers.set("content-length", declared);
  return straight(port, started, timeoutMs, unanswered, (send) => send(targetPath, { method: request.method, body: upload?.stream ?? null, headers, signal: upload?.signal ?? request.signal, timeoutMs }));
}

/** A reply read whole, to be handed to every caller of a coalesced request. */
async function copied(res: Response): Promise<Response> {
  const body = await res.arrayBuffer();
  return new Response(body, { status: res.status, headers: res.headers });
}

/**
 * One request straight to the target (`ask` sends it through `send`, and may share it), its
 * reply handed back: a small body the target sized (Ollama sends Content-Length when the body
 * fit its buffer) is copied in one piece, so it keeps that length; a HEAD reply keeps the
 * length the target gave it; anything else, progress streams included, is relayed as it
 * comes, and cut off if the target breaks it off. An unreachable or silent target is
 * `unanswered` (the last good copy, or a 503/504).
 */
export async function straight(
  port: PassthroughPort,
  started: number,
  timeoutMs: number,
  unanswered: (status: 503 | 504, message: string) => Response,
  ask: (send: TargetClient["send"]) => Promise<Response>,
): Promise<Response> {
  const { target, poller } = port;
  let sent = started;
  let head = false;
  const send: TargetClient["send"] = (path, init) => {
    sent = performance.now();
    head = init.method === "HEAD";
    return target.send(path, init);
  };
  try {
    const res = await ask(send);
    const answered = performance.now();
    const length = sizedLength(res);
    const headers = replyHeaders(res, { "server-timing": timing(started, sent, answered) });
    if (res.body === null || head) {
      // a HEAD reply has no body but says how long the GET's would be, as Ollama's does
      await res.body?.cancel();
      return new Response(unsentBody(length), { status: res.status, headers });
    }
    if (length !== null && length <= SMALL_REPLY_BYTES) return new Response(await res.arrayBuffer(), { status: res.status, headers });
    return new Response(passOn(res.body), { status: res.status, headers });
  } catch (err) {
    if (err instanceof TargetReset) {
      // a reset says nothing sure about the target: the next liveness probe decides (ADR 0030)
      void poller.poll();
      return unanswered(503, `${err.message}; try again later`);
    }
    if (err instanceof TargetUnreachable) {
      poller.markDown(err.message);
      return unanswered(503, `the target is unreachable (${err.message}); try again later`);
    }
    // a slow answer (/api/ps waits for loads) is not a target that is down: the poller decides
    if (err instanceof TargetTimeout) return unanswered(504, `the target did not answer within ${timeoutMs} ms; try again later`);
    throw err;
  }
}

/** Up to this length a HEAD reply's unsent body is made at once (Bun then sizes the reply itself). */
const UNSENT_AT_ONCE_BYTES = 1 << 20;

/**
 * The body of a HEAD reply, never sent: it only gives the reply its length. Elysia answers HEAD
 * on a path of a catch-all (`/api/*`) by running the GET route's handler and setting
 * Content-Length to the length of the body that returns, and Bun sizes a HEAD reply by its body
 * — so the length the target gave is said with a body that long, of zero bytes (beyond a MiB made
 * as they are read), and none with an empty stream.
 */
function unsentBody(length: number | null): Uint8Array | ReadableStream<Uint8Array> | null {
  // (a target reply without a length: a stream that ends a turn later, for which Bun says none
  // either — one that ends at once it sizes as empty)
  if (length === null) return new ReadableStream({ pull: async (controller) => void (await Bun.sleep(0), controller.close()) });
  if (length === 0) return null;
  if (length <= UNSENT_AT_ONCE_BYTES) return new Uint8Array(length);
  let left = length;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const size = Math.min(left, SMALL_REPLY_BYTES);
      left -= size;
      controller.enqueue(new Uint8Array(size));
      if (left === 0) controller.close();
    },
  });
}

/** /api/tags or /v1/models answered from the poller's last good /api/tags. */
function fromCache(kind: "tags" | "models", tagsText: string, at: number, pathname: string): Response | null {
  const headers = { "x-foreman-cache": `stale; copied-at=${new Date(at).toISOString()}` };
  if (kind === "tags") return new Response(tagsText, { status: 200, headers: { "content-type": "application/json; charset=utf-8", ...headers } });
  const models = ((JSON.parse(tagsText) as { models?: { name: string; modified_at?: string }[] }).models ?? []).map((m) => ({
    id: m.name,
    object: "model",
    created: Math.floor(Date.parse(m.modified_at ?? "") / 1000) || 0,
    owned_by: m.name.includes("/") ? m.name.split("/")[0] : "library",
  }));
  if (pathname === "/v1/models") return new Response(JSON.stringify({ object: "list", data: models.length ? models : null }), { status: 200, headers: { "content-type": "application/json", ...headers } });
  const id = decodeURIComponent(pathname.slice("/v1/models/".length));
  const found = models.find((m) => m.id === id || m.id === `${id}:latest`);
  if (!found) return null;
  return new Response(JSON.stringify({ ...found, id }), { status: 200, headers: { "content-type": "application/json", ...headers } });
}
